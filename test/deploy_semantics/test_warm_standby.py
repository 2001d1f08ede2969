"""Warm standby as AWS would deploy it: the example's three stacks in two regions (audit replica and its key,
then the primary and its global table, then the standby serving the replica), twice side by side, with no
feature flags (so no grant rests on one). The emulator serves one region and no global table, so what spans
the two is checked here, on the templates."""

from __future__ import annotations

import functools
import json
import sys

import aws_cdk as cdk
import pytest

from ..run_cache import run_temp, shared
from .cfn import StackTemplate, load_assembly
from .conftest import EXAMPLE, REPLICA_REGION
from .test_collisions import NAMED, _kept, _name, _new_per_stack, _renamed_by_generation, physical_names
from .test_ordering import config_rules_after_recorder, stage_after_account
from .test_quotas import quota_problems
from .test_writers import CHECKS

PRIMARY_REGION = "us-east-1"
COPIES = ("PaymentPlatform-prod", "PaymentPlatform-prod-copy")


# What each stack of every tier's copies must pass.
STACK_CHECKS = [*CHECKS, stage_after_account, config_rules_after_recorder, quota_problems]


def synth_copies(outdir, **tier) -> None:
    """Two copies of the example's prod stacks in ``outdir``, the tier's ``build_platform`` keywords on top of a
    platform in PRIMARY_REGION under one domain name."""
    sys.path.insert(0, str(EXAMPLE))
    try:
        from platform_stacks import build_platform
    finally:
        sys.path.remove(str(EXAMPLE))
    from cdk_payments import Profile

    app = cdk.App(analytics_reporting=False, outdir=str(outdir))
    for stack_id in COPIES:
        build_platform(app, stack_id=stack_id, profile=Profile.PROD, cost_center="payments",
                       primary_region=PRIMARY_REGION, alert_email="payments-alerts@example.com",
                       domain_name="pay.example.com", hosted_zone_id="Z0123456789ABCDEFGHIJ", zone_name="example.com",
                       **tier)
    app.synth()


def load_copies(tmp_path_factory, folder: str, **tier) -> dict[str, StackTemplate]:
    """``synth_copies`` once per run (shared by the xdist workers), by stack name."""
    synthesize = functools.partial(synth_copies, **tier)
    return {stack.name: stack for stack in load_assembly(shared(run_temp(tmp_path_factory) / folder, synthesize))}


def failed_checks(stacks: dict[str, StackTemplate], check) -> str:
    """What ``check`` finds in each stack, as JSON; an empty object when it finds nothing."""
    problems = {name: check(stack) for name, stack in stacks.items()}
    return json.dumps({name: found for name, found in problems.items() if found}, indent=1)


@pytest.fixture(scope="module")
def stacks(tmp_path_factory) -> dict[str, StackTemplate]:
    from cdk_payments import ResilienceTier

    return load_copies(tmp_path_factory, "warm-standby-copies", replica_region=REPLICA_REGION,
                       resilience=ResilienceTier.WARM_STANDBY)


@pytest.mark.parametrize("check", STACK_CHECKS, ids=lambda c: c.__name__)
def test_every_stack_of_both_copies(stacks, check):
    assert failed_checks(stacks, check) == "{}"


def test_two_copies_share_no_physical_name(stacks):
    shared_names = {key: where for key, where in physical_names(list(stacks.values())).items() if len(where) > 1}
    assert shared_names == {}


def test_only_the_global_table_keeps_a_fixed_name_after_a_destroy_and_the_next_deploy_adopts_it(stacks):
    """As test_collisions requires of the example, with one exception: the standby must know the global table's
    name at synthesis, and a kept payments table is what the next deployment wants back, so it adopts it
    (`cdk deploy --import-existing-resources`; docs/regions.md) or names another (`global_table_name`)."""
    blocking, tables = [], []
    for stack in stacks.values():
        for logical_id, resource in stack.resources.items():
            path = NAMED.get(resource["Type"])
            name = path and _name(stack, resource.get("Properties", {}), path)
            if resource["Type"] == "AWS::DynamoDB::GlobalTable":
                tables.append((stack.name, name, resource["DeletionPolicy"]))
            elif name and _kept(resource) and not _renamed_by_generation(stack, resource) and not _new_per_stack(
                    stack, resource):
                blocking.append(f"{stack.name}/{logical_id}")
    assert blocking == []
    assert tables == [("PaymentPlatform-prod", "PaymentPlatformprodPaymentsTable574A8B49", "Retain"),
                      ("PaymentPlatform-prod-copy", "PaymentPlatformprodcopyPaymentsTable0571DA33", "Retain")]


def test_each_stack_deploys_after_what_it_names(stacks):
    # The replica's key exists before the global table names it; the replica and the merchant roles exist
    # before the standby's policies and grants name them. No stack references another's outputs.
    assert set(stacks["PaymentPlatform-prod"].dependencies) == {"PaymentPlatform-prod-audit-replica"}
    assert set(stacks["PaymentPlatform-prod-standby"].dependencies) == {"PaymentPlatform-prod"}
    assert stacks["PaymentPlatform-prod-standby"].region == REPLICA_REGION
    assert stacks["PaymentPlatform-prod"].region == PRIMARY_REGION
    for stack in stacks.values():
        assert "Fn::ImportValue" not in json.dumps(stack.template)


def test_the_replica_uses_the_key_the_audit_replica_stack_makes(stacks):
    primary, replica = stacks["PaymentPlatform-prod"], stacks["PaymentPlatform-prod-audit-replica"]
    [(_, table)] = primary.of_type("AWS::DynamoDB::GlobalTable")
    [standby_replica] = [r for r in table["Properties"]["Replicas"] if r["Region"] == REPLICA_REGION]
    [(_, alias)] = replica.of_type("AWS::KMS::Alias")
    assert alias["Properties"]["AliasName"] in json.dumps(standby_replica["SSESpecification"])


def test_the_standby_serves_the_primarys_table_and_maps_the_primarys_merchant_roles(stacks):
    primary, standby = stacks["PaymentPlatform-prod"], stacks["PaymentPlatform-prod-standby"]
    [(_, table)] = primary.of_type("AWS::DynamoDB::GlobalTable")
    table_name = table["Properties"]["TableName"]
    roles = {r["Properties"]["RoleName"] for _, r in primary.of_type("AWS::IAM::Role") if "RoleName" in r["Properties"]}
    assert len(roles) == 2 and all(len(name) <= 64 for name in roles)
    [processor] = [f for _, f in standby.of_type("AWS::Lambda::Function")
                   if f["Properties"].get("Handler") == "runtime.api.handler"]
    environment = processor["Properties"]["Environment"]["Variables"]
    assert environment["TABLE_NAME"] == table_name
    merchant_roles = json.dumps(environment["MERCHANT_ROLES"])
    assert all(f"role/{name}" in merchant_roles for name in roles)
    # The merchants' roles may call the standby's stage (an identity policy the standby attaches to each role).
    attached = {json.dumps(p["Properties"]["Roles"]) for _, p in standby.of_type("AWS::IAM::Policy")
                if "execute-api:Invoke" in json.dumps(p["Properties"]["PolicyDocument"])}
    assert all(any(name in roles_ for roles_ in attached) for name in roles)


def test_the_failover_pair_is_complete(stacks):
    primary, standby = stacks["PaymentPlatform-prod"], stacks["PaymentPlatform-prod-standby"]
    [(_, record)] = primary.of_type("AWS::Route53::RecordSet")
    [(_, secondary)] = standby.of_type("AWS::Route53::RecordSet")
    assert (record["Properties"]["Failover"], secondary["Properties"]["Failover"]) == ("PRIMARY", "SECONDARY")
    assert record["Properties"]["Name"] == secondary["Properties"]["Name"] == "pay.example.com."
    assert record["Properties"]["SetIdentifier"] != secondary["Properties"]["SetIdentifier"]
    [(check_id, check)] = primary.of_type("AWS::Route53::HealthCheck")
    assert record["Properties"]["HealthCheckId"] == {"Ref": check_id}
    # Route 53 reads the alarm's metric itself: a statistic it supports, a standard-resolution period.
    alarm_id = check["Properties"]["HealthCheckConfig"]["AlarmIdentifier"]["Name"]["Ref"]
    alarm = primary.resources[alarm_id]["Properties"]
    assert alarm["Statistic"] in {"Average", "Sum", "Minimum", "Maximum", "SampleCount"} and alarm["Period"] >= 60


def test_a_stack_name_too_long_for_the_named_merchant_roles_is_refused():
    sys.path.insert(0, str(EXAMPLE))
    try:
        from platform_stacks import build_platform
    finally:
        sys.path.remove(str(EXAMPLE))
    from cdk_payments import Profile, ResilienceTier

    with pytest.raises(ValueError, match="stack_name: with a second region the merchant roles are named .* at most 64"):
        build_platform(cdk.App(), stack_id="PaymentPlatform-prod-with-a-very-long-descriptive-name",
                       profile=Profile.PROD, cost_center="payments", replica_region=REPLICA_REGION,
                       primary_region=PRIMARY_REGION, resilience=ResilienceTier.WARM_STANDBY)
