"""Deploy rehearsal: the example's stacks created in moto server, a payment driven through them.

The example app is synthesized into a temporary cloud assembly, its assets published to the
bootstrap bucket and its stack created with CloudFormation's CreateStack, in a moto server this
module starts on 127.0.0.1 (ephemeral port) and stops. Nothing here reaches a network or an account.
The handlers run from the published asset, with the handler string and environment moto created.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from cdk_payments import openapi
from cdk_payments.local.deploy import resolve, stack_region
from cdk_payments.local.emulator import BOOTSTRAP_VERSION

from . import gaps
from .rehearsal import (
    check_created,
    check_the_rest_as_synthesized,
    default_security_group_stripped,
    deploy_quietly,
    lifecycle_end_to_end,
    payment_end_to_end,
    rotation_answered,
    smoke_through_a_gateway,
    webhook_end_to_end,
)

pytestmark = pytest.mark.slow


PROFILES = ("dev", "prod")


@pytest.fixture(scope="module")
def assemblies(example_assemblies):
    """The session's cloud assemblies of the example (read only here: breakages work on copies)."""
    return {profile: example_assemblies.get(profile) for profile in PROFILES}


@pytest.fixture(scope="module")
def deployments(emulator, assemblies):
    """dev and prod side by side in one account, as a team would have them; prod's audit replica stack
    first, in its own region, as `cdk deploy --all` orders the assembly."""
    emulator.reset()
    replica = "PaymentPlatform-prod-audit-replica"
    deployed = {"replica": deploy_quietly(emulator, assemblies["prod"], replica,
                                   region=stack_region(assemblies["prod"], replica))}
    for profile in PROFILES:
        deployed[profile] = deploy_quietly(emulator, assemblies[profile], f"PaymentPlatform-{profile}")
    return deployed


def test_audit_replica_stack_is_created_in_its_region(deployments):
    replica = deployments["replica"]
    assert replica.region == "us-west-2"
    check_created(replica)


def test_prod_stack_is_deployed_after_its_replica(assemblies):
    manifest = json.loads((assemblies["prod"] / "manifest.json").read_text())
    assert "PaymentPlatform-prod-audit-replica" in manifest["artifacts"]["PaymentPlatform-prod"]["dependencies"]


def test_prod_audit_bucket_replicates_to_the_bucket_the_replica_stack_created(deployments):
    """AWS needs the destination to exist (versioned) before the source's replication is configured;
    moto checks neither (its CloudFormation bucket ignores versioning and replication), so this does."""
    prod, replica = deployments["prod"], deployments["replica"]
    audit = prod.one("AWS::S3::Bucket", "AuditBucket")
    destination = resolve(prod, prod.properties(audit)["ReplicationConfiguration"]["Rules"][0]["Destination"]["Bucket"])
    replica_bucket = replica.physical[replica.one("AWS::S3::Bucket", "ReplicaBucket")]
    assert destination == f"arn:aws:s3:::{replica_bucket}"
    location = replica.client("s3").get_bucket_location(Bucket=replica_bucket)["LocationConstraint"]
    assert location == replica.region
    assert replica.properties(replica.one("AWS::S3::Bucket", "ReplicaBucket"))["VersioningConfiguration"] == {
        "Status": "Enabled"}


@pytest.mark.parametrize("profile", PROFILES)
def test_stack_is_created_with_every_supported_resource(deployments, profile):
    check_created(deployments[profile])


@pytest.mark.parametrize("profile", PROFILES)
def test_skipped_resource_types_are_pinned(deployments, profile):
    """moto reports CREATE_COMPLETE for these without creating them; a change here needs a look."""
    deployment = deployments[profile]
    assert set(deployment.skipped.values()) == gaps.SKIPPED_TYPES[deployment.stack_name]


@pytest.mark.parametrize("profile", PROFILES)
def test_each_rewrite_touches_only_what_it_covers(deployments, profile):
    deployment = deployments[profile]
    assert {name: sorted(ids) for name, ids in deployment.touched.items()} == {
        "kms-key-tags": ["PlatformKey9FD66B6F"],
        # Only dev has a NAT instance; prod's NAT gateways have no volumes.
        "instance-volume-size": ["NetworkVpcpublicSubnet1NatInstance90328396"] if profile == "dev" else [],
        "parameter-name": ["WorkersAgentConfig568A62A9"],
        "parameter-tags": deployment.logical_ids("AWS::SSM::Parameter"),
        "secret-through-the-api": sorted(k for k, r in deployment.synthesized["Resources"].items()
                                         if r["Type"] == "AWS::SecretsManager::Secret"),  # provider, webhooks
        "stage-name-ref": deployment.logical_ids("AWS::ApiGateway::Stage"),
        "event-bus-name-ref": deployment.logical_ids("AWS::Events::EventBus"),
        "firehose-after-the-stack": sorted(k for k, r in deployment.synthesized["Resources"].items()
                                           if r["Type"] == "AWS::KinesisFirehose::DeliveryStream"),
        "bucket-events-after-the-stack": [deployment.one("AWS::S3::Bucket", "AuditTrailStaging")],
        # A tier's and a domain's (test_warm_standby_rehearsal.py): neither profile has a global table or a domain.
        **{name: [] for name in ("global-table-as-table", "certificate-through-the-api", "domain-name-through-the-api",
                                 "hosted-zone-of-the-emulator", "alarm-a-health-check-follows")},
    }


@pytest.mark.parametrize("profile", PROFILES)
def test_rewrites_leave_every_other_resource_as_synthesized(deployments, profile):
    check_the_rest_as_synthesized(deployments[profile])


@pytest.mark.parametrize("profile", PROFILES)
def test_bootstrap_version_satisfies_the_stack_rule(deployments, profile):
    """moto does not evaluate template Rules; the CDK's CheckBootstrapVersion is checked here."""
    rule = deployments[profile].deployed["Rules"]["CheckBootstrapVersion"]["Assertions"][0]["Assert"]
    refused = rule["Fn::Not"][0]["Fn::Contains"][0]
    assert BOOTSTRAP_VERSION not in refused


@pytest.mark.parametrize("profile", PROFILES)
def test_default_security_group_custom_resource_is_answered(deployments, profile):
    default_security_group_stripped(deployments[profile])


@pytest.mark.parametrize("profile", PROFILES)
def test_rotation_schedule_is_answered_by_the_deployed_rotation_function(deployments, profile):
    """moto has no model for the schedule: the rehearsal asks Secrets Manager to rotate as CloudFormation
    would, and Secrets Manager invokes the deployed rotation function (its testSecret step, since the
    schedule does not rotate immediately)."""
    rotation_answered(deployments[profile])


@pytest.mark.parametrize("profile", PROFILES)
def test_payment_end_to_end_through_deployed_code(deployments, profile):
    result = payment_end_to_end(deployments[profile])
    assert result["fetched"]["amount"] == 1250 and result["fetched"]["currency"] == "EUR"


@pytest.mark.parametrize("profile", PROFILES)
def test_payment_lifecycle_end_to_end_through_deployed_code(deployments, profile):
    result = lifecycle_end_to_end(deployments[profile])
    assert result["refunds"]["refunded_amount"] == 800 and result["refunds"]["captured_amount"] == 1000


@pytest.mark.parametrize("profile", PROFILES)
def test_a_settled_payment_reaches_the_merchants_endpoint_signed(deployments, profile):
    webhook_end_to_end(deployments[profile])


@pytest.mark.parametrize("profile", PROFILES)
def test_cdk_payments_smoke_passes_against_the_deployed_stack(deployments, profile):
    """The command a user runs after `cdk deploy`, against the emulated stack through the local gateway."""
    code, out = smoke_through_a_gateway(deployments[profile])
    steps = re.findall(r"^\[\s*[\d.]+s\] (ok|FAIL) +([^:]+):", out, re.M)
    assert steps[:7] == [("ok", s) for s in (
        "stack outputs read", "signed in as the merchant role", "payment accepted",
        "replay answered the same, nothing new", "payment processed", "payment listed", "second merchant gets 404")], out
    assert code == 0 and steps[7:] == [("ok", "audit record written"), ("ok", "smoke test passed")], out


@pytest.mark.parametrize("profile", PROFILES)
def test_the_openapi_document_is_where_the_stack_output_says(deployments, profile):
    """The example publishes the shipped document as an asset: after the deploy, OpenApiUrl names it."""
    deployment = deployments[profile]
    (stack,) = deployment.emulator.client("cloudformation", deployment.region).describe_stacks(
        StackName=deployment.stack_name)["Stacks"]
    url = urlsplit({o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["OpenApiUrl"])
    assert url.scheme == "s3"
    published = deployment.emulator.client("s3", deployment.region).get_object(Bucket=url.netloc, Key=url.path[1:])
    assert published["Body"].read() == openapi.SPEC_FILE.read_bytes()


@pytest.mark.parametrize("profile", PROFILES)
def test_iam_allows_every_call_the_deployed_code_made(deployments, emulator, profile):
    """The calls the runner recorded (test/iam/recorder.py), judged by the IAM simulator against the
    stack's roles and resource policies as synthesized: moto itself checks no permission."""
    from ..iam.judge import refused_in_rehearsal

    refused = refused_in_rehearsal(deployments[profile], emulator.workdir / "aws-calls.jsonl")
    assert not refused, f"IAM would refuse calls the deployed code made:\n{refused}"


def _without_schema(assembly: Path, tmp_path: Path) -> Path:
    broken = tmp_path / "broken"
    shutil.copytree(assembly, broken)
    manifest = json.loads((broken / "PaymentPlatform-dev.assets.json").read_text())
    removed = []
    for asset in manifest["files"].values():
        schema = broken / asset["source"]["path"] / "runtime" / "payment_request.schema.json"
        if schema.exists():
            schema.unlink()
            removed.append(schema)
    assert removed
    return broken


def _queue_url_to_dead_letter_queue(template: dict) -> None:
    processor = next(r for k, r in template["Resources"].items() if k.startswith("PaymentsProcessorFunction")
                     and r["Type"] == "AWS::Lambda::Function")
    dead_letter = next(k for k in template["Resources"] if k.startswith("PaymentsDeadLetterQueue"))
    processor["Properties"]["Environment"]["Variables"]["QUEUE_URL"] = {"Ref": dead_letter}


# The breakages redeploy dev into an emptied emulator: they run after the tests above (file order).
def test_rehearsal_fails_when_the_asset_lacks_the_schema(emulator, assemblies, tmp_path, deployments):
    emulator.reset()
    broken = deploy_quietly(emulator, _without_schema(assemblies["dev"], tmp_path), "PaymentPlatform-dev")
    check_created(broken)  # every scanner and every resource check passes
    with pytest.raises(AssertionError, match="the function failed.*payment_request.schema.json"):
        payment_end_to_end(broken)


def test_rehearsal_fails_when_queue_url_names_another_queue(emulator, assemblies, deployments):
    emulator.reset()
    broken = deploy_quietly(emulator, assemblies["dev"], "PaymentPlatform-dev", change_template=_queue_url_to_dead_letter_queue)
    check_created(broken)
    with pytest.raises(AssertionError, match="consumed 0 messages"):
        payment_end_to_end(broken)
