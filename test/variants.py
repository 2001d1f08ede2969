"""The construct variants the rules packs and the deploy-semantics checks read: each synthesized once
per test run, with every validation plugin, and shared by the xdist workers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import Tags
from aws_cdk import aws_backup as backup
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms

from cdk_payments import (
    AlertChannel,
    AlertTopics,
    AuditBucket,
    ComplianceBaseline,
    CostOptimizedVpc,
    FlowLogDestination,
    NatStrategy,
    PaymentApiAuthorization,
    PaymentDashboards,
    PaymentWorkerFleet,
    PlatformParameters,
    Profile,
    ResilienceTier,
    SecurePaymentApi,
)

from .harness import synth
from .payment_api.test_domain import zone
from .run_cache import shared_each


def _baseline(stack):
    alerts = AlertTopics(stack, "Alerts", emails={AlertChannel.SECURITY: ["security@example.com"]})
    audit = AuditBucket(stack, "Audit")
    ComplianceBaseline(stack, "Baseline", security_topic=alerts.security_topic, cost_topic=alerts.cost_topic,
                       create_recorder=True, recorder_bucket=audit.access_log_bucket, create_guardduty_detector=True,
                       enable_security_hub=True)
    for key in ("application", "cost-center", "environment"):
        Tags.of(stack).add(key, "test")


def _api_variants(stack):
    pool = cognito.UserPool.from_user_pool_id(stack, "Pool", "us-east-1_abc")
    SecurePaymentApi(stack, "Cognito", authorization=PaymentApiAuthorization.COGNITO, user_pool=pool)
    SecurePaymentApi(stack, "Keys", authorization=PaymentApiAuthorization.API_KEY, merchants=["m1"],
                     configure_api_gateway_account=False)


def _observability(stack):
    api = SecurePaymentApi(stack, "Payments")
    PaymentDashboards(stack, "Dashboards", payment_api=api)
    PlatformParameters(stack, "Parameters", payment_api=api)


def _active_active_peer(stack):
    api = SecurePaymentApi(
        stack, "Payments", profile=Profile.PROD, resilience=ResilienceTier.ACTIVE_ACTIVE, domain_name="pay.example.com",
        hosted_zone=zone(stack), existing_table=dynamodb.TableV2.from_table_attributes(
            stack, "Replica", table_name="OwnerPaymentsTable7D5378AE", global_indexes=["by-merchant"],
            encryption_key=kms.Alias.from_alias_name(stack, "ReplicaKey", "alias/peer")))
    api.forward_events(events.EventBus.from_event_bus_arn(
        stack, "OwnerBus", "arn:aws:events:us-west-2:111111111111:event-bus/payments"))


BUILDS = {
    "vpc-dev": lambda s: CostOptimizedVpc(s, "Network"),
    "vpc-prod": lambda s: CostOptimizedVpc(s, "Network", profile=Profile.PROD),
    "vpc-single-gateway": lambda s: CostOptimizedVpc(s, "Network", nat=NatStrategy.SINGLE_GATEWAY),
    "vpc-isolated": lambda s: CostOptimizedVpc(s, "Network", nat=NatStrategy.NONE, interface_endpoints=["sqs"]),
    "vpc-flow-logs-s3": lambda s: CostOptimizedVpc(s, "Network", flow_logs=FlowLogDestination.S3,
                                                   flow_log_bucket=AuditBucket(s, "Audit").bucket),
    "audit-dev": lambda s: AuditBucket(s, "Audit"),
    "audit-prod": lambda s: AuditBucket(s, "Audit", profile=Profile.PROD),
    "api-dev": lambda s: SecurePaymentApi(s, "Payments", vpc=CostOptimizedVpc(s, "Network").vpc),
    "api-prod": lambda s: SecurePaymentApi(s, "Payments", profile=Profile.PROD,
                                           vpc=CostOptimizedVpc(s, "Network", profile=Profile.PROD).vpc),
    "api-auth-variants": _api_variants,
    "api-backup-and-restore": lambda s: SecurePaymentApi(
        s, "Payments", resilience=ResilienceTier.BACKUP_AND_RESTORE, backup_copy_vault=backup.BackupVault.from_backup_vault_arn(
            s, "CopyVault", "arn:aws:backup:us-west-2:111111111111:backup-vault:payments-copies")),
    "api-custom-domain": lambda s: SecurePaymentApi(s, "Payments", domain_name="pay.example.com", hosted_zone=zone(s)),
    # Warm standby's halves, each in its region: the primary's global table, and the standby serving its replica.
    "api-warm-standby-primary": lambda s: SecurePaymentApi(
        s, "Payments", profile=Profile.PROD, resilience=ResilienceTier.WARM_STANDBY, standby_region="us-west-2",
        standby_encryption_key=kms.Key.from_key_arn(s, "StandbyKey", "arn:aws:kms:us-west-2:111111111111:alias/standby"),
        domain_name="pay.example.com", hosted_zone=zone(s)),
    "api-warm-standby-standby": lambda s: SecurePaymentApi(
        s, "Payments", profile=Profile.PROD, resilience=ResilienceTier.WARM_STANDBY, domain_name="pay.example.com",
        hosted_zone=zone(s), existing_table=dynamodb.TableV2.from_table_attributes(
            s, "Replica", table_name="PrimaryPaymentsTable5C3F5DD6", global_indexes=["by-merchant"],
            encryption_key=kms.Alias.from_alias_name(s, "ReplicaKey", "alias/standby"))),
    # Active-active's halves: the owner's strongly consistent table (a peer in us-east-2, the witness in us-west-2),
    # and a peer serving its replica that forwards its events to the owner's bus.
    "api-active-active-owner": lambda s: SecurePaymentApi(
        s, "Payments", profile=Profile.PROD, resilience=ResilienceTier.ACTIVE_ACTIVE, witness_region="us-west-2",
        peer_regions={"us-east-2": kms.Key.from_key_arn(s, "PeerKey", "arn:aws:kms:us-east-2:111111111111:alias/peer")},
        domain_name="pay.example.com", hosted_zone=zone(s)),
    "api-active-active-peer": _active_active_peer,
    "compliance-baseline": _baseline,
    "observability": _observability,
    "workers-spot": lambda s: PaymentWorkerFleet(s, "Workers", vpc=CostOptimizedVpc(s, "Network").vpc,
                                                 alarm_topic=AlertTopics(s, "Alerts").operations_topic),
    "workers-on-demand": lambda s: PaymentWorkerFleet(s, "Workers", profile=Profile.PROD, spot=False,
                                                      vpc=CostOptimizedVpc(s, "Network", profile=Profile.PROD).vpc),
}


# The variants whose stack names its region (a global table needs it); the others are environment-agnostic.
# The standby half imports its replica by name, which needs no particular region: it stays in the one the
# handler tests record their calls in (tools/grant_mutation.py judges them against these templates).
REGIONS = {"api-warm-standby-primary": "us-east-1", "api-warm-standby-standby": "us-east-1",
           "api-active-active-owner": "us-east-1", "api-active-active-peer": "us-east-1"}


def synthesize_variants(root: Path) -> tuple[Path, dict[str, list[str]]]:
    """``root/<name>.json`` per variant and their open findings: each variant synthesized once per run,
    xdist workers that need them at the same time sharing the work."""
    def builder(name):
        def build(folder: Path) -> None:
            region = REGIONS.get(name)
            result = synth(BUILDS[name], env=cdk.Environment(region=region) if region else None)
            (folder / "findings.json").write_text(json.dumps([str(f) for f in result.findings]))
            (folder / "template.json").write_text(json.dumps(result.json))
        return build

    shared_each({root / name: builder(name) for name in BUILDS})
    findings = {}
    for name in BUILDS:
        findings[name] = json.loads((root / name / "findings.json").read_text())
        copy = root / f".{name}.{os.getpid()}.json"  # replaced atomically: another worker may be reading it
        copy.write_text((root / name / "template.json").read_text())
        os.replace(copy, root / f"{name}.json")
    return root, findings
