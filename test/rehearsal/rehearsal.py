"""Deploy a synthesized stack into the emulator, check what was created, drive a payment through it.

Every check reads what the emulator created (its APIs) and compares it with what the synthesized
template asked for, per logical id. A failed check raises AssertionError naming what is wrong, so
the deliberate breakages in the test module fail here, the same way a real mistake would.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterator

import boto3

from cdk_payments.local import gaps as local_gaps
from cdk_payments.local.deploy import Deployment, attribute_of, deploy, resolve
from cdk_payments.local.emulator import Invocation, bootstrap_bucket, redeliveries_done
from cdk_payments.local.gateway import Gateway, function_of, match_resource
from cdk_payments.runtime.intake import payment_id_for
from cdk_payments.smoke import Smoke, SmokeOptions

from . import gaps
from .requests import caller, payment_body, proxy_event

CARD_NUMBER = "4111111111111111"  # a test PAN (Luhn-valid)


def rotation_answered(deployment: Deployment) -> None:
    """Each rotation schedule's function was invoked by Secrets Manager and completed its steps."""
    for logical_id in deployment.logical_ids("AWS::SecretsManager::RotationSchedule"):
        wanted = deployment.properties(logical_id)
        secret = deployment.client("secretsmanager").describe_secret(SecretId=resolve(deployment, wanted["SecretId"]))
        function = resolve(deployment, wanted["RotationLambdaARN"])
        assert secret["RotationEnabled"] and secret["RotationLambdaARN"] == function, (logical_id, secret)
        steps = ["testSecret"] if wanted.get("RotateImmediatelyOnUpdate") is False else [
            "createSecret", "setSecret", "testSecret", "finishSecret"]
        invoked = [i for i in deployment.emulator.invocations if function.endswith(f":function:{i.function_name}")
                   and i.event.get("SecretId") == secret["Name"]]
        assert [i.event["Step"] for i in invoked] == steps, (logical_id, [i.event for i in invoked])
        failed = [(i.event["Step"], i.error) for i in invoked if i.error is not None]
        assert failed == [], f"{logical_id}: the rotation function failed: {failed}"


def deploy_quietly(emulator: Any, assembly: Path, stack_name: str, **kwargs: Any) -> Deployment:
    """deploy(), without moto's warning for each resource type it has no model for (gaps.py pins them)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Tried to parse .* not supported by moto", category=UserWarning)
        return deploy(emulator, assembly, stack_name, **kwargs)


# -- what was created, per logical id ----------------------------------------------------------------

def check_created(deployment: Deployment, pinned: frozenset[str] | None = None) -> None:
    """Every resource moto supports exists, with the properties the payment path depends on; moto skips
    the types ``pinned`` (by default, gaps.SKIPPED_TYPES of the stack) and no other."""
    assert deployment.status == "CREATE_COMPLETE", deployment.status
    pinned = gaps.SKIPPED_TYPES[deployment.stack_name] if pinned is None else pinned
    missing = {k: t for k, t in deployment.skipped.items() if t not in pinned}
    assert missing == {}, f"moto did not create these supported resources: {missing}"
    assert set(deployment.skipped.values()) == pinned, (
        "the set of resource types moto skips changed: "
        f"now {sorted(set(deployment.skipped.values()))}, pinned {sorted(pinned)}")
    check_tables(deployment)
    check_queues(deployment)
    check_functions(deployment)
    check_event_source_mappings(deployment)
    check_api(deployment)
    check_rules(deployment)
    check_launch_templates(deployment)


def check_the_rest_as_synthesized(deployment: Deployment) -> None:
    """Besides the resources the gap rewrites touched, only those that referred to one of them changed."""
    touched = {logical_id for ids in deployment.touched.values() for logical_id in ids}
    replaced = [logical_id for rewrite in local_gaps.REWRITES if rewrite.replaces
                for logical_id in deployment.touched[rewrite.name]]
    changed = {logical_id for logical_id, resource in deployment.synthesized["Resources"].items()
               if deployment.deployed["Resources"].get(logical_id) != resource}
    # Besides the rewritten resources, only those that referred to one created through the API (its Ref
    # is now its ARN or name, its GetAtt its ARN or domain, and nothing depends on it any more) or to a
    # stage or bus (its Ref is now its name).
    referring = {logical_id for logical_id in changed - touched
                 if any(f'"{s}"' in json.dumps(deployment.synthesized["Resources"][logical_id]) for s in replaced)}
    assert changed - touched == referring
    assert deployment.deployed.keys() == deployment.synthesized.keys()


def check_tables(deployment: Deployment) -> None:
    for logical_id in deployment.logical_ids("AWS::DynamoDB::Table"):
        wanted = deployment.properties(logical_id)
        table = deployment.client("dynamodb").describe_table(TableName=deployment.physical[logical_id])["Table"]
        assert table["KeySchema"] == wanted["KeySchema"], logical_id
        assert table.get("BillingModeSummary", {}).get("BillingMode") == wanted.get("BillingMode"), logical_id
        indexes = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
        for index in wanted.get("GlobalSecondaryIndexes", []):
            created = indexes.get(index["IndexName"])
            assert created, f"{logical_id}: index {index['IndexName']} missing"
            assert created["KeySchema"] == index["KeySchema"], f"{logical_id}: {index['IndexName']} key schema"
            assert created["Projection"]["ProjectionType"] == index["Projection"]["ProjectionType"]
        assert len(indexes) == len(wanted.get("GlobalSecondaryIndexes", [])), logical_id


def check_queues(deployment: Deployment) -> None:
    for logical_id in deployment.logical_ids("AWS::SQS::Queue"):
        wanted = deployment.properties(logical_id)
        attributes = deployment.client("sqs").get_queue_attributes(
            QueueUrl=deployment.physical[logical_id], AttributeNames=["All"])["Attributes"]
        if "RedrivePolicy" in wanted:
            redrive = json.loads(attributes["RedrivePolicy"])
            expected = resolve(deployment, wanted["RedrivePolicy"])
            assert redrive["deadLetterTargetArn"] == expected["deadLetterTargetArn"], logical_id
            assert int(redrive["maxReceiveCount"]) == int(expected["maxReceiveCount"]), logical_id
        else:
            assert "RedrivePolicy" not in attributes, logical_id
        if "MessageRetentionPeriod" in wanted:
            assert int(attributes["MessageRetentionPeriod"]) == wanted["MessageRetentionPeriod"], logical_id


def check_functions(deployment: Deployment) -> None:
    for logical_id in deployment.logical_ids("AWS::Lambda::Function"):
        wanted = deployment.properties(logical_id)
        config = deployment.client("lambda").get_function_configuration(FunctionName=deployment.physical[logical_id])
        assert config["Handler"] == wanted["Handler"], logical_id
        assert config["Runtime"] == wanted["Runtime"], logical_id
        # (Architectures and Layers are not compared: moto's CloudFormation Lambda model drops both; the
        # construct tests pin arm64.) Each layer resolves, through the public parameter CloudFormation
        # reads, to a layer version that exists (the seeded stand-in, see Emulator.publish_powertools_layer).
        for layer in resolve(deployment, wanted.get("Layers", [])):
            versions = deployment.client("lambda").list_layer_versions(LayerName=layer.split(":")[6])["LayerVersions"]
            assert layer in [v["LayerVersionArn"] for v in versions], (logical_id, layer)
        variables = config.get("Environment", {}).get("Variables", {})
        assert variables == resolve(deployment, wanted.get("Environment", {}).get("Variables", {})), logical_id
        # The code is the published asset, in the bootstrap bucket.
        bucket, key = resolve(deployment, wanted["Code"]["S3Bucket"]), resolve(deployment, wanted["Code"]["S3Key"])
        assert bucket == bootstrap_bucket(deployment.region), (logical_id, bucket)
        deployment.client("s3").head_object(Bucket=bucket, Key=key)


def check_event_source_mappings(deployment: Deployment) -> None:
    for logical_id in deployment.logical_ids("AWS::Lambda::EventSourceMapping"):
        wanted = deployment.properties(logical_id)
        mapping = deployment.client("lambda").get_event_source_mapping(UUID=deployment.physical[logical_id])
        assert mapping["EventSourceArn"] == resolve(deployment, wanted["EventSourceArn"]), logical_id
        function = resolve(deployment, wanted["FunctionName"])
        assert mapping["FunctionArn"].endswith(f":function:{function}"), (logical_id, mapping["FunctionArn"])
        assert mapping["BatchSize"] == wanted["BatchSize"], logical_id
        assert mapping["State"] == "Enabled", logical_id
        assert mapping.get("FunctionResponseTypes", []) == wanted.get("FunctionResponseTypes", []), logical_id


def check_api(deployment: Deployment) -> None:
    """Each method the template declares exists on the deployed API with its authorization and integration."""
    apigateway = deployment.client("apigateway")
    for api_id in deployment.logical_ids("AWS::ApiGateway::RestApi"):
        rest_api = deployment.physical[api_id]
        resources = {r["id"]: r for r in apigateway.get_resources(restApiId=rest_api, limit=500)["items"]}
        by_path = {r["path"]: r for r in resources.values()}
        for method_id in deployment.logical_ids("AWS::ApiGateway::Method"):
            wanted = deployment.properties(method_id)
            if wanted["RestApiId"] != {"Ref": api_id}:
                continue
            path = _resource_path(deployment, wanted["ResourceId"])
            assert path in by_path, f"{method_id}: no resource {path} on the deployed API"
            method = apigateway.get_method(restApiId=rest_api, resourceId=by_path[path]["id"],
                                           httpMethod=wanted["HttpMethod"])
            assert method["authorizationType"] == wanted["AuthorizationType"], method_id
            integration = method["methodIntegration"]
            assert integration["type"] == wanted["Integration"]["Type"], method_id
            assert integration["httpMethod"] == wanted["Integration"]["IntegrationHttpMethod"], method_id
            assert integration["uri"] == resolve(deployment, wanted["Integration"]["Uri"]), method_id


def _resource_path(deployment: Deployment, reference: Any) -> str:
    if isinstance(reference, dict) and "Fn::GetAtt" in reference:  # the API's root resource
        return "/"
    properties = deployment.properties(reference["Ref"])
    parent = _resource_path(deployment, properties["ParentId"])
    return f"{parent.rstrip('/')}/{properties['PathPart']}"


def check_rules(deployment: Deployment) -> None:
    events = deployment.client("events")
    for logical_id in deployment.logical_ids("AWS::Events::Rule"):
        wanted = deployment.properties(logical_id)
        name = deployment.physical[logical_id]
        bus = resolve(deployment, wanted.get("EventBusName", "default"))
        rule = events.describe_rule(Name=name, EventBusName=bus)
        assert json.loads(rule["EventPattern"]) == resolve(deployment, wanted["EventPattern"]), logical_id
        assert rule["State"] == wanted.get("State", "ENABLED"), logical_id
        targets = {t["Id"]: t for t in events.list_targets_by_rule(Rule=name, EventBusName=bus)["Targets"]}
        assert set(targets) == {t["Id"] for t in wanted["Targets"]}, logical_id
        for target in wanted["Targets"]:
            created = targets[target["Id"]]
            assert created["Arn"] == resolve(deployment, target["Arn"]), logical_id
            if "DeadLetterConfig" in target:
                assert created["DeadLetterConfig"]["Arn"] == resolve(deployment, target["DeadLetterConfig"]["Arn"])


def check_launch_templates(deployment: Deployment) -> None:
    """The workers' volumes are encrypted with the key the template names (the platform key)."""
    ec2 = deployment.client("ec2")
    for logical_id in deployment.logical_ids("AWS::EC2::LaunchTemplate"):
        wanted = deployment.properties(logical_id)["LaunchTemplateData"].get("BlockDeviceMappings", [])
        created = ec2.describe_launch_template_versions(LaunchTemplateId=deployment.physical[logical_id])[
            "LaunchTemplateVersions"][0]["LaunchTemplateData"].get("BlockDeviceMappings", [])
        assert created == resolve(deployment, wanted), (logical_id, created)
        assert all(m["Ebs"]["Encrypted"] and m["Ebs"].get("KmsKeyId") for m in created if "Ebs" in m), logical_id


# -- the payment, end to end -------------------------------------------------------------------------

@dataclass
class PaymentApi:
    """The deployed API as a caller sees it: its methods, each integrated with a deployed function."""

    deployment: Deployment
    rest_api_id: str
    stage: str
    identity: dict[str, Any]

    @classmethod
    def of(cls, deployment: Deployment, merchants: Deployment | None = None) -> "PaymentApi":
        """The stack's API; ``merchants``: the stack whose merchant roles it maps (a standby's primary)."""
        api_id = deployment.one("AWS::ApiGateway::RestApi", "PaymentsApi")
        stage = deployment.properties(deployment.one("AWS::ApiGateway::Stage", "PaymentsApi"))["StageName"]
        # Requests are signed by a session of the role the deployed processor maps to the demo merchant.
        merchants = merchants or deployment
        role = merchants.physical[merchants.one("AWS::IAM::Role", "DemoMerchantRole")]
        return cls(deployment, deployment.physical[api_id], stage, caller(role))

    def call(self, method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """Find the deployed method for ``path``, and invoke the function its integration names."""
        apigateway = self.deployment.client("apigateway")
        resources = apigateway.get_resources(restApiId=self.rest_api_id, limit=500)["items"]
        matched = match_resource(resources, path)
        assert matched is not None, f"no deployed resource matches {path}"
        resource, parameters = matched
        method_config = apigateway.get_method(restApiId=self.rest_api_id, resourceId=resource["id"], httpMethod=method)
        integration = method_config["methodIntegration"]
        assert integration["type"] == "AWS_PROXY", integration
        function_arn = function_of(integration["uri"])
        self._check_permission(function_arn, method, resource["path"])
        event = proxy_event(method, resource["path"], path, rest_api_id=self.rest_api_id, stage=self.stage,
                            body=body, headers=headers, path_parameters=parameters or None, identity=self.identity)
        response = self.deployment.client("lambda").invoke(FunctionName=function_arn, Payload=json.dumps(event))
        payload = json.loads(response["Payload"].read() or "null")
        assert "FunctionError" not in response, f"{method} {path}: the function failed: {payload}"
        return payload["statusCode"], json.loads(payload["body"]) if payload.get("body") else None

    def _check_permission(self, function_arn: str, method: str, resource_path: str) -> None:
        """The function's resource policy lets API Gateway invoke it for this API and method."""
        policy = json.loads(self.deployment.client("lambda").get_policy(FunctionName=function_arn)["Policy"])
        route = re.sub(r"\{[^}]+\}", "*", resource_path)
        allowed = [s for s in policy["Statement"] if s["Principal"] == {"Service": "apigateway.amazonaws.com"}
                   and f":{self.rest_api_id}/" in json.dumps(s.get("Condition", {}))
                   and f"/{method}{route}" in json.dumps(s.get("Condition", {}))]
        assert allowed, f"API Gateway may not invoke {function_arn} for {method} {resource_path}"


def smoke_through_a_gateway(deployment: Deployment) -> tuple[int, str]:
    """`cdk-payments smoke` against the deployed stack, as a user runs it after `cdk deploy`, through a
    gateway on 127.0.0.1 in front of the stack's API: its exit code and what it printed."""
    api = deployment.one("AWS::ApiGateway::RestApi", "PaymentsApi")
    stage = deployment.properties(deployment.one("AWS::ApiGateway::Stage", "PaymentsApi"))["StageName"]
    gateway = Gateway(deployment.emulator, deployment.physical[api], stage, deployment.region).start()
    out = io.StringIO()
    options = SmokeOptions(stack=deployment.stack_name, region=deployment.region,
                           endpoint_url=deployment.emulator.endpoint, api_url=gateway.url, process_timeout=30,
                           audit_timeout=10, poll_interval=0.2)
    try:
        code = Smoke(options, session=boto3.Session(region_name=deployment.region), out=out).run()
    finally:
        gateway.stop()
    return code, out.getvalue()


def payments_queue_arn(deployment: Deployment) -> str:
    """The settlement queue's ARN (the emulator's redeliveries are waited for by queue)."""
    return attribute_of(deployment, deployment.one("AWS::SQS::Queue", "PaymentsQueue"), "Arn")


def subscribe_consumer(deployment: Deployment) -> str:
    """A downstream consumer of settled payments: a rule on the bus the stack publishes in its SSM
    parameters, with a queue as its target. Returns the queue's URL."""
    prefix = deployment.properties(deployment.one("AWS::SSM::Parameter", "eventbusname"))["Name"]
    bus = deployment.client("ssm").get_parameter(Name=prefix)["Parameter"]["Value"]
    sqs, events = deployment.client("sqs"), deployment.client("events")
    name = f"{deployment.stack_name}-settled-payments"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventBusName=bus,
                    EventPattern=json.dumps({"source": ["cdk-payments"], "detail-type": ["Payment Processed"]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "consumer", "Arn": arn}])
    return url


def payment_end_to_end(deployment: Deployment) -> dict[str, Any]:
    """POST, settle through the queue, announce on the bus, GET; and a card number refused."""
    emulator = deployment.emulator
    api = PaymentApi.of(deployment)
    table = deployment.physical[deployment.one("AWS::DynamoDB::Table", "PaymentsTable")]
    queue_url = deployment.physical[deployment.one("AWS::SQS::Queue", "PaymentsQueue")]
    queue_arn = payments_queue_arn(deployment)
    handler = deployment.physical[deployment.one("AWS::Lambda::Function", "PaymentsEventHandler")]
    dynamodb = deployment.client("dynamodb")
    consumer = subscribe_consumer(deployment)

    # What the table holds each time the queue hands the message to the event handler.
    seen_when_consumed: list[dict[str, Any]] = []

    def before_invoke(function_name: str, event: Any) -> None:
        if function_name == handler:
            for record in event.get("Records", []):
                payment_id = json.loads(record["body"])["payment_id"]
                item = dynamodb.get_item(TableName=table, Key={"payment_id": {"S": payment_id}}, ConsistentRead=True)
                seen_when_consumed.append({"record": record, "item": item.get("Item")})

    # POST sends the message in parallel with recording the provider's answer, so the message can
    # overtake the record. Made certain here: the record waits until the event handler had the message.
    first_delivery = threading.Event()

    def after_invoke(invocation: Invocation) -> None:
        if invocation.function_name == handler:
            first_delivery.set()

    invoked_before = len(emulator.invocations)
    emulator.before_invoke, emulator.after_invoke = before_invoke, after_invoke
    try:
        with updates_held(table, until=first_delivery):
            status, created = api.call("POST", "/payments", body=payment_body(),
                                       headers={"Idempotency-Key": "rehearsal-order-1001"})
        redeliveries_done(queue_arn)  # the queue's poller delivers the handed-back message again, apart from POST
    finally:
        emulator.before_invoke = emulator.after_invoke = None
    assert status == 202, (status, created)
    assert created["status"] == "PENDING", created
    payment_id = created["payment_id"]

    # The message went to the deployed queue, whose event source mapping drove the event handler: first
    # while the payment was still claimed (handed back to the queue for a few seconds), then settled.
    assert len(seen_when_consumed) == 2, f"the event handler consumed {len(seen_when_consumed)} messages from its queue"
    overtaking, settling = seen_when_consumed
    for consumed in seen_when_consumed:
        assert consumed["record"]["eventSourceARN"] == queue_arn, consumed["record"]["eventSourceARN"]
        assert json.loads(consumed["record"]["body"]) == {"payment_id": payment_id}
    assert overtaking["item"]["status"] == {"S": "UNKNOWN"} and "claim" in overtaking["item"], overtaking["item"]
    assert settling["item"]["status"] == {"S": "PENDING"} and "claim" not in settling["item"], settling["item"]
    assert [c["record"]["attributes"]["ApproximateReceiveCount"] for c in seen_when_consumed] == ["1", "2"]
    # (The emulator waits seconds for a redelivery, not the queue's visibility timeout of minutes: the
    # second delivery shows that the handler shortened the message's visibility.)
    settled = [i for i in emulator.invocations[invoked_before:] if i.function_name == handler]
    assert len(settled) == 2 and all(i.error is None for i in settled), [i.error for i in settled]
    message_id = overtaking["record"]["messageId"]
    assert [i.result for i in settled] == [{"batchItemFailures": [{"itemIdentifier": message_id}]},
                                           {"batchItemFailures": []}], [i.result for i in settled]
    item = dynamodb.get_item(TableName=table, Key={"payment_id": {"S": payment_id}}, ConsistentRead=True)["Item"]
    assert item["status"] == {"S": "PROCESSED"}, item["status"]
    assert _visible_messages(deployment, queue_url) == 0

    # The "Payment Processed" event reached the bus and the consumer rule's target.
    messages = deployment.client("sqs").receive_message(QueueUrl=consumer, MaxNumberOfMessages=10).get("Messages", [])
    # (Stacks side by side share the default bus: count only this payment's events.)
    events = [e for e in map(json.loads, (m["Body"] for m in messages)) if e["detail"]["payment_id"] == payment_id]
    assert [(e["detail-type"], e["source"], e["detail"]["status"]) for e in events] == [
        ("Payment Processed", "cdk-payments", "PROCESSED")], events

    status, fetched = api.call("GET", f"/payments/{payment_id}")
    assert status == 200, (status, fetched)
    assert fetched["payment_id"] == payment_id and fetched["status"] == "PROCESSED", fetched
    assert {"amount", "currency", "merchant_id", "created_at", "updated_at"} <= set(fetched), fetched
    assert "payment_method_token" not in fetched and "provider_reference" not in fetched, fetched

    # The merchant's list, through the deployed table's merchant index.
    status, listed = api.call("GET", "/payments")
    assert status == 200, (status, listed)
    assert [p["payment_id"] for p in listed["payments"]] == [payment_id] and listed["next_cursor"] is None, listed

    # A card number is refused before anything is written or sent; so is a caller of no merchant.
    items_before = dynamodb.scan(TableName=table, Select="COUNT")["Count"]
    invocations_before = len([i for i in emulator.invocations if i.function_name == handler])
    status, refused = api.call("POST", "/payments", body=payment_body(payment_method_token=CARD_NUMBER),
                               headers={"Idempotency-Key": "rehearsal-order-1002"})
    assert status == 400 and refused["error"]["code"] == "card_data_rejected", (status, refused)
    # A caller the API maps to no merchant (a session of another role) is refused the same way.
    stranger = replace(api, identity=caller("NotAMerchantRole"))
    status, refused = stranger.call("POST", "/payments", body=payment_body(),
                                    headers={"Idempotency-Key": "rehearsal-order-1003"})
    assert status == 403 and refused["error"]["code"] == "merchant_not_mapped", (status, refused)
    status, refused = stranger.call("GET", f"/payments/{payment_id}")
    assert status == 403 and refused["error"]["code"] == "merchant_not_mapped", (status, refused)
    assert dynamodb.scan(TableName=table, Select="COUNT")["Count"] == items_before
    assert len([i for i in emulator.invocations if i.function_name == handler]) == invocations_before
    assert _visible_messages(deployment, queue_url) == 0
    return {"payment_id": payment_id, "fetched": fetched, "event": events[0]}


@contextmanager
def updates_held(table: str, *, until: threading.Event, timeout: float = 30.0) -> Iterator[None]:
    """Hold every UpdateItem on ``table`` in the emulator until ``until`` is set, or until a
    SendMessage returned (its queue's event source mapping has run by then, or there is none)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.sqs.models import SQSBackend

    update, send = DynamoDBBackend.update_item, SQSBackend.send_message

    def update_item(backend: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        if table_name == table:
            assert until.wait(timeout), f"an update of {table} was held {timeout} s"
        return update(backend, table_name, *args, **kwargs)

    def send_message(*args: Any, **kwargs: Any) -> Any:
        try:
            return send(*args, **kwargs)
        finally:
            until.set()

    DynamoDBBackend.update_item, SQSBackend.send_message = update_item, send_message
    try:
        yield
    finally:
        DynamoDBBackend.update_item, SQSBackend.send_message = update, send


def webhook_end_to_end(deployment: Deployment) -> dict[str, Any]:
    """A settled payment reaches its merchant's endpoint, signed with the merchant's secret, and again
    after the endpoint first answered 500: the endpoint in the merchant's secret is moved (as an
    operator would) to a receiver on 127.0.0.1, which the deployed delivery function may reach here
    only (test/rehearsal/loopback.py)."""
    from ..runtime.test_webhooks import Receiver

    delivery = deployment.physical[deployment.one("AWS::Lambda::Function", "PaymentsWebhooksDelivery")]
    variables = deployment.client("lambda").get_function_configuration(FunctionName=delivery)["Environment"]["Variables"]
    secret_arn = json.loads(variables["WEBHOOK_SECRETS"])["demo-merchant"]
    secrets = deployment.client("secretsmanager")
    config = json.loads(secrets.get_secret_value(SecretId=secret_arn)["SecretString"])
    queue = payments_queue_arn(deployment)
    # The first delivery of this payment is refused. Earlier scenarios' webhooks may still be retrying (to
    # the default endpoint, which never resolves) and reach the receiver too: they are answered 200.
    expected = payment_id_for("demo-merchant", "rehearsal-webhook-1")
    receiver = Receiver([500], secret=config["secret"], scripted=lambda webhook: webhook["data"]["payment_id"] == expected)
    try:
        secrets.put_secret_value(SecretId=secret_arn, SecretString=json.dumps({**config, "url": receiver.url}))
        status, created = PaymentApi.of(deployment).call("POST", "/payments", body=payment_body(description="Order 1004"),
                                                         headers={"Idempotency-Key": "rehearsal-webhook-1"})
        assert status == 202 and created["payment_id"] == expected, (status, created)
        redeliveries_done(queue)
        deadline = time.monotonic() + 20  # the retry comes after the first backoff, 5 s
        while time.monotonic() < deadline and len(_webhooks_of(receiver, created["payment_id"])) < 2:
            time.sleep(0.1)
    finally:
        receiver.stop()
        secrets.put_secret_value(SecretId=secret_arn, SecretString=json.dumps(config))
    delivered = _webhooks_of(receiver, created["payment_id"])
    # Both attempts verified: the first answered 500, the retry of the same event 200.
    assert [w["type"] for w in delivered] == ["payment.processed"] * 2, (receiver.verified, receiver.refused)
    assert delivered[0] == delivered[1] and not receiver.statuses
    assert delivered[0]["data"]["merchant_id"] == "demo-merchant" and not receiver.refused, receiver.refused
    return delivered[0]


def _webhooks_of(receiver: Any, payment_id: str) -> list[dict[str, Any]]:
    return [w for w in list(receiver.verified) if w["data"].get("payment_id") == payment_id]


def _visible_messages(deployment: Deployment, queue_url: str) -> int:
    attributes = deployment.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def default_security_group_stripped(deployment: Deployment) -> None:
    """The custom resource ran (was answered) with the VPC's real default security group."""
    custom = deployment.one("Custom::VpcRestrictDefaultSG")
    answered = [i for i in deployment.emulator.invocations
                if isinstance(i.event, dict) and i.event.get("LogicalResourceId") == custom
                and i.event["StackId"].split("/")[1] == deployment.stack_name]
    assert len(answered) == 1 and answered[0].result["Status"] == "SUCCESS", answered
    vpc = deployment.physical[deployment.one("AWS::EC2::VPC")]
    ec2 = deployment.client("ec2")
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                                   {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    assert [g["GroupId"] for g in groups] == [answered[0].event["ResourceProperties"]["DefaultSecurityGroupId"]]
    assert groups[0]["IpPermissions"] == [] and groups[0]["IpPermissionsEgress"] == [], groups[0]


def lifecycle_end_to_end(deployment: Deployment) -> dict[str, Any]:
    """Through the deployed methods and functions: a manual-capture payment authorized, captured in
    part, refunded twice, an over-refund refused with nothing written; another voided before capture."""
    api = PaymentApi.of(deployment)
    table = deployment.physical[deployment.one("AWS::DynamoDB::Table", "PaymentsTable")]
    queue = payments_queue_arn(deployment)
    dynamodb = deployment.client("dynamodb")

    def stored(payment_id: str) -> dict[str, Any]:
        return dynamodb.get_item(TableName=table, Key={"payment_id": {"S": payment_id}}, ConsistentRead=True)["Item"]

    def post(path: str, body: Any, key: str) -> tuple[int, Any]:
        return api.call("POST", path, body=body, headers={"Idempotency-Key": key})

    status, created = post("/payments", payment_body(capture="manual"), "rehearsal-lifecycle-1")
    assert status == 202, (status, created)
    payment_id = created["payment_id"]
    redeliveries_done(queue)  # if the settlement message overtook the payment's record, its second delivery
    assert stored(payment_id)["status"] == {"S": "AUTHORIZED"}, stored(payment_id)["status"]  # settled by the queue
    status, captured = post(f"/payments/{payment_id}/capture", {"amount": 1000}, "rehearsal-capture-1")
    assert status == 200 and captured["status"] == "CAPTURED" and captured["captured_amount"] == 1000, captured
    for key, amount in (("rehearsal-refund-1", 300), ("rehearsal-refund-2", 500)):
        status, refund = post(f"/payments/{payment_id}/refunds", {"amount": amount}, key)
        assert status == 200 and refund["status"] == "SUCCEEDED", (status, refund)
    before = stored(payment_id)
    status, refused = post(f"/payments/{payment_id}/refunds", {"amount": 201}, "rehearsal-refund-3")
    assert status == 422 and refused["error"]["code"] == "amount_exceeds_refundable", (status, refused)
    assert stored(payment_id) == before
    status, refunds = api.call("GET", f"/payments/{payment_id}/refunds")
    assert status == 200 and [r["amount"] for r in refunds["refunds"]] == [300, 500], refunds
    status, other = post("/payments", payment_body(capture="manual", description="Order 1002"), "rehearsal-lifecycle-2")
    redeliveries_done(queue)
    status, voided = post(f"/payments/{other['payment_id']}/void", None, "rehearsal-void-1")
    assert status == 200 and voided["status"] == "VOIDED", (status, voided)
    return {"payment_id": payment_id, "refunds": refunds}
