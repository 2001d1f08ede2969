"""A synthesized stack as it would be deployed in one account and region: every Ref and Fn::GetAtt
resolved to the concrete name, URL or ARN the service returns, so that IAM policies, resource
policies and recorded calls all speak in real ARNs the simulator can match.

Generated physical names are ``<stack>-<logical id>`` (unique per stack copy, as CloudFormation's
are); a resource's explicit name property wins.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

from ..deploy_semantics.cfn import StackTemplate

ACCOUNT = "123456789012"  # moto's default account: the handler tests and the rehearsal use it too

# type -> (the property holding an explicit name, how Ref renders, how Arn renders); {n} is the name.
KINDS = {
    "AWS::DynamoDB::Table": ("TableName", "{n}", "arn:aws:dynamodb:{r}:{a}:table/{n}"),
    "AWS::SQS::Queue": ("QueueName", "https://sqs.{r}.amazonaws.com/{a}/{n}", "arn:aws:sqs:{r}:{a}:{n}"),
    "AWS::SNS::Topic": ("TopicName", "arn:aws:sns:{r}:{a}:{n}", "arn:aws:sns:{r}:{a}:{n}"),
    "AWS::KMS::Key": (None, "{n}", "arn:aws:kms:{r}:{a}:key/{n}"),
    "AWS::KMS::Alias": ("AliasName", "{n}", "arn:aws:kms:{r}:{a}:{n}"),
    "AWS::SecretsManager::Secret": ("Name", "arn:aws:secretsmanager:{r}:{a}:secret:{n}-AbCdEf",
                                    "arn:aws:secretsmanager:{r}:{a}:secret:{n}-AbCdEf"),
    "AWS::Events::EventBus": ("Name", "{n}", "arn:aws:events:{r}:{a}:event-bus/{n}"),
    "AWS::Events::Rule": ("Name", "{n}", "arn:aws:events:{r}:{a}:rule/{n}"),
    "AWS::Lambda::Function": ("FunctionName", "{n}", "arn:aws:lambda:{r}:{a}:function:{n}"),
    "AWS::IAM::Role": ("RoleName", "{n}", "arn:aws:iam::{a}:role/{n}"),
    "AWS::S3::Bucket": ("BucketName", "{n}", "arn:aws:s3:::{n}"),
    "AWS::Logs::LogGroup": ("LogGroupName", "{n}", "arn:aws:logs:{r}:{a}:log-group:{n}:*"),
    "AWS::CloudWatch::Alarm": ("AlarmName", "{n}", "arn:aws:cloudwatch:{r}:{a}:alarm:{n}"),
    "AWS::KinesisFirehose::DeliveryStream": ("DeliveryStreamName", "{n}",
                                             "arn:aws:firehose:{r}:{a}:deliverystream/{n}"),
    "AWS::StepFunctions::StateMachine": ("StateMachineName", "arn:aws:states:{r}:{a}:stateMachine:{n}",
                                         "arn:aws:states:{r}:{a}:stateMachine:{n}"),
}
ATTRIBUTES = {"QueueUrl": "ref", "QueueName": "name", "TopicArn": "ref", "TopicName": "name", "KeyId": "name",
              "Name": "name", "Id": "ref", "SecretArn": "ref"}


@dataclass
class Deployed(StackTemplate):
    """``StackTemplate`` whose references resolve to concrete names, URLs and ARNs in ``ACCOUNT``."""

    def name_of(self, logical_id: str) -> str:
        resource = self.resources[logical_id]
        kind = KINDS.get(resource["Type"])
        explicit = kind and kind[0] and resource.get("Properties", {}).get(kind[0])
        if explicit:
            return str(self.resolve(explicit))
        if resource["Type"] == "AWS::KMS::Key":  # a key id is a UUID
            digest = hashlib.sha256(f"{self.name}/{logical_id}".encode()).hexdigest()
            return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
        name = f"{self.name}-{logical_id}"
        if resource["Type"] == "AWS::S3::Bucket":
            name = name.lower()
        if resource["Type"] == "AWS::SQS::Queue" and resource.get("Properties", {}).get("FifoQueue"):
            name += ".fifo"
        return name

    def _render(self, logical_id: str, which: int) -> str:
        resource = self.resources[logical_id]
        kind = KINDS.get(resource["Type"])
        if kind is None:
            return f"{self.name}-{logical_id}"
        text = kind[which].format(n=self.name_of(logical_id), r=self.region, a=ACCOUNT)
        if resource["Type"] == "AWS::IAM::Role":  # a role's path is part of its ARN
            path = resource.get("Properties", {}).get("Path", "/")
            text = text.replace(":role/", f":role{path}") if which == 2 else text
        return text

    def _ref(self, name: str) -> str:
        if name == "AWS::AccountId":
            return ACCOUNT
        if name in self.resources:
            return self._render(name, 1)
        return super()._ref(name)

    def _get_att(self, logical_id: str, attribute: str) -> str:
        if logical_id not in self.resources:
            return f"{self.name}/{logical_id}.{attribute}"
        if attribute.endswith("Arn") and attribute not in ("SecretArn", "TopicArn"):
            return self._render(logical_id, 2)
        how = ATTRIBUTES.get(attribute)
        if how == "ref":
            return self._render(logical_id, 1)
        if how == "name":
            return self.name_of(logical_id)
        return f"{self.name}-{logical_id}.{attribute}"

    def arn(self, logical_id: str) -> str:
        return self._render(logical_id, 2)

    @cached_property
    def by_arn(self) -> dict[str, str]:
        """Logical id of each resource, by its ARN (and its Ref, which is an ARN for some types)."""
        found = {}
        for logical_id, resource in self.resources.items():
            if resource["Type"] in KINDS:
                found[self.arn(logical_id)] = logical_id
        return found


def deployed(stack: StackTemplate) -> Deployed:
    return Deployed(stack.name, stack.region, stack.template, stack.dependencies)
