"""The example's day-one outputs, added to a synthesized template where the example lacks them.

The `dayone` work adds ApiUrl, DemoMerchantRoleArn and SecondMerchantRoleArn (with a second merchant)
to the example, and grants the demo role execute-api:Invoke; until it has, the smoke tests add them
here, the way the example will. A template
that already carries an output is left as it is, so this becomes a no-op once the example has them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

SECOND_MERCHANT = "second-merchant"


def add_day_one_outputs(template: dict[str, Any]) -> list[str]:
    """Add the missing outputs (and the second merchant's role); returns the output keys added."""
    resources, outputs = template["Resources"], template.setdefault("Outputs", {})
    added = []
    api = next(k for k, r in resources.items() if r["Type"] == "AWS::ApiGateway::RestApi")
    stage = next(k for k, r in resources.items() if r["Type"] == "AWS::ApiGateway::Stage")
    demo = next(k for k, r in resources.items() if r["Type"] == "AWS::IAM::Role" and k.startswith("DemoMerchantRole"))
    if "ApiUrl" not in outputs:
        stage_name = resources[stage]["Properties"]["StageName"]
        outputs["ApiUrl"] = {"Value": {"Fn::Join": ["", ["https://", {"Ref": api}, ".execute-api.",
                                                         {"Ref": "AWS::Region"}, ".amazonaws.com/", stage_name, "/"]]}}
        added.append("ApiUrl")
    if "DemoMerchantRoleArn" not in outputs:
        outputs["DemoMerchantRoleArn"] = {"Value": {"Fn::GetAtt": [demo, "Arn"]}}
        added.append("DemoMerchantRoleArn")
    if "SecondMerchantRoleArn" not in outputs:
        resources["SecondMerchantRole"] = {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": resources[demo]["Properties"]["AssumeRolePolicyDocument"]}}
        processor = next(r for k, r in resources.items()
                         if r["Type"] == "AWS::Lambda::Function" and k.startswith("PaymentsProcessorFunction"))
        variables = processor["Properties"]["Environment"]["Variables"]
        variables["MERCHANT_ROLES"] = {"Fn::Join": ["", [
            '{"demo-merchant":"', {"Fn::GetAtt": [demo, "Arn"]}, f'","{SECOND_MERCHANT}":"',
            {"Fn::GetAtt": ["SecondMerchantRole", "Arn"]}, '"}']]}
        outputs["SecondMerchantRoleArn"] = {"Value": {"Fn::GetAtt": ["SecondMerchantRole", "Arn"]}}
        added.append("SecondMerchantRoleArn")
    roles = [demo, "SecondMerchantRole"] if "SecondMerchantRole" in resources else [demo]
    granted = [k for k, r in resources.items() if r["Type"] == "AWS::IAM::Policy"
               and "execute-api:Invoke" in json.dumps(r) and {"Ref": demo} in r["Properties"].get("Roles", [])]
    if not granted:  # what SecurePaymentApi.grant_invoke gives the demo merchant's role
        resources["MerchantRolesInvokeApi"] = {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyName": "invoke-payments-api", "Roles": [{"Ref": role} for role in roles],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "execute-api:Invoke",
                "Resource": {"Fn::Join": ["", ["arn:aws:execute-api:", {"Ref": "AWS::Region"}, ":",
                                               {"Ref": "AWS::AccountId"}, ":", {"Ref": api}, "/*/*/payments*"]]}}]}}}
        added.append("execute-api:Invoke for " + ", ".join(roles))
    return added


def assembly_with_day_one_outputs(assembly: Path, target: Path) -> Path:
    """A copy of ``assembly`` whose stacks with a payment API carry the day-one outputs."""
    shutil.copytree(assembly, target, ignore=shutil.ignore_patterns("node_modules"))
    for path in target.glob("*.template.json"):
        template = json.loads(path.read_text())
        if any(r["Type"] == "AWS::ApiGateway::RestApi" for r in template["Resources"].values()):
            add_day_one_outputs(template)
            path.write_text(json.dumps(template, indent=1))
    return target
