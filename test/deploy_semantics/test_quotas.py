"""Nothing needs more than a fresh account's default quotas unless a prop opts in.

The numbers are AWS's documented defaults for a new account (Service Quotas console; Lambda:
10 concurrent executions in new accounts, 100 of any limit kept unreserved)."""

from __future__ import annotations

import json
from collections import Counter

from .cfn import StackTemplate

MAX_RESOURCES_PER_STACK = 500
MAX_TEMPLATE_BYTES = 1_000_000  # through S3, as `cdk deploy` uploads it
ELASTIC_IPS_PER_REGION = 5
VPCS_PER_REGION = 5
LAMBDA_ENVIRONMENT_BYTES = 4096


def quota_problems(stack: StackTemplate) -> list[str]:
    problems = []
    types = Counter(r["Type"] for r in stack.resources.values())
    if len(stack.resources) > MAX_RESOURCES_PER_STACK:
        problems.append(f"{stack.name}: {len(stack.resources)} resources")
    if len(json.dumps(stack.template)) > MAX_TEMPLATE_BYTES:
        problems.append(f"{stack.name}: template over {MAX_TEMPLATE_BYTES} bytes")
    for logical_id, resource in stack.of_type("AWS::Lambda::Function"):
        props = resource["Properties"]
        if props.get("ReservedConcurrentExecutions"):
            problems.append(f"{stack.name}: {logical_id} reserves concurrency (a new account has 10 in all)")
        size = sum(len(k) + len(str(stack.resolve(v))) for k, v in
                   props.get("Environment", {}).get("Variables", {}).items())
        if size > LAMBDA_ENVIRONMENT_BYTES:
            problems.append(f"{stack.name}: {logical_id}'s environment is {size} bytes (Lambda allows 4 KB)")
    for logical_id, resource in stack.of_type("AWS::Lambda::EventSourceMapping"):
        # Unbounded, a queue backlog can take all of a new account's 10 and throttle everything else.
        maximum = resource["Properties"].get("ScalingConfig", {}).get("MaximumConcurrency")
        if "EventSourceArn" in resource["Properties"] and not (maximum and maximum < 10):
            problems.append(f"{stack.name}: {logical_id} may scale to the account's whole concurrency")
    for _, resource in stack.of_type("AWS::Lambda::Alias", "AWS::Lambda::Version"):
        if resource["Properties"].get("ProvisionedConcurrencyConfig"):
            problems.append(f"{stack.name}: provisioned concurrency")
    if types["AWS::EC2::EIP"] > ELASTIC_IPS_PER_REGION:
        problems.append(f"{stack.name}: {types['AWS::EC2::EIP']} Elastic IPs")
    return problems


def test_each_stack_fits_a_fresh_account(example_copies):
    assert [p for stack in example_copies for p in quota_problems(stack)] == []


def test_dev_beside_prod_fits_one_region(example_copies):
    """One dev and one prod copy in a region: the shared account layout the README documents."""
    pair = [s for s in example_copies if s.name in ("PaymentPlatform-dev", "PaymentPlatform-prod")]
    per_region = Counter()
    for stack in pair:
        for resource in stack.resources.values():
            per_region[(stack.region, resource["Type"])] += 1
    assert max(n for (_, t), n in per_region.items() if t == "AWS::EC2::EIP") <= ELASTIC_IPS_PER_REGION
    assert max(n for (_, t), n in per_region.items() if t == "AWS::EC2::VPC") <= VPCS_PER_REGION
