"""The construct variants the rules packs and the deploy-semantics checks read: each synthesized once
per test run, with every validation plugin, and shared by the xdist workers."""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

from aws_cdk import Tags
from aws_cdk import aws_backup as backup
from aws_cdk import aws_cognito as cognito

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
    "compliance-baseline": _baseline,
    "observability": _observability,
    "workers-spot": lambda s: PaymentWorkerFleet(s, "Workers", vpc=CostOptimizedVpc(s, "Network").vpc,
                                                 alarm_topic=AlertTopics(s, "Alerts").operations_topic),
    "workers-on-demand": lambda s: PaymentWorkerFleet(s, "Workers", profile=Profile.PROD, spot=False,
                                                      vpc=CostOptimizedVpc(s, "Network", profile=Profile.PROD).vpc),
}


def synthesize_variants(root: Path) -> tuple[Path, dict[str, list[str]]]:
    """``root/<name>.json`` per variant and their open findings, built by the first caller of the run."""
    root.mkdir(parents=True, exist_ok=True)
    findings_file = root / "findings.json"
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not findings_file.exists():
            findings = {}
            for name, build in BUILDS.items():
                result = synth(build)
                findings[name] = [str(f) for f in result.findings]
                (root / f"{name}.json").write_text(json.dumps(result.json))
            findings_file.write_text(json.dumps(findings))
    return root, json.loads(findings_file.read_text())
