"""Which resource types moto's CloudFormation skips in the example's stacks (the rewrites around
moto's other gaps are in cdk_payments.local.gaps, which a user's `cdk-payments local` runs too)."""

# Resource types of the example that moto 5.2's CloudFormation does not implement: it logs "No Moto
# CloudFormation support", creates nothing, resolves their Ref to nothing, and still reports
# CREATE_COMPLETE. Pinned per stack: the rehearsal fails when a set changes (a moto upgrade implements
# one, or the example gains a type moto lacks), so that someone looks. What they do is verified
# elsewhere: policies and WAF by the deploy-semantics tests and the rules packs, alarms, Config rules,
# budgets and backups by the construct tests; the API stage is bypassed (methods are driven one by one).
# The secret's resource policy is a policy like the others; its rotation schedule is answered by the
# rehearsal, which asks the emulator's Secrets Manager to rotate as CloudFormation would (see
# rehearsal.rotate_as_scheduled). The example's day-one finding sources (GuardDuty, Security Hub, the
# Config recorder, its rules and the account trail) and the alert e-mail subscriptions are account state
# moto does not model; test_example and the deploy-semantics tests check them.
_SKIPPED_IN_BOTH = frozenset({
    "AWS::ApiGateway::Account",
    "AWS::ApiGateway::GatewayResponse",
    "AWS::ApiGateway::Model",
    "AWS::ApiGateway::RequestValidator",
    "AWS::ApiGateway::Stage",
    "AWS::AutoScaling::ScalingPolicy",
    "AWS::Budgets::Budget",
    "AWS::CloudTrail::Trail",
    "AWS::CloudWatch::Alarm",
    "AWS::Config::ConfigRule",
    "AWS::Config::ConfigurationRecorder",
    "AWS::Config::DeliveryChannel",
    "AWS::GuardDuty::Detector",
    "AWS::SNS::Subscription",
    "AWS::SecurityHub::Hub",
    "AWS::SecurityHub::Standard",
    "AWS::S3::BucketPolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SecretsManager::ResourcePolicy",
    "AWS::SecretsManager::RotationSchedule",
    "AWS::WAFv2::LoggingConfiguration",
    "AWS::WAFv2::WebACL",
    "AWS::WAFv2::WebACLAssociation",
})
SKIPPED_TYPES = {
    "PaymentPlatform-prod-audit-replica": frozenset({"AWS::S3::BucketPolicy"}),
    "PaymentPlatform-dev": _SKIPPED_IN_BOTH,
    "PaymentPlatform-prod": _SKIPPED_IN_BOTH | {
        "AWS::Backup::BackupPlan", "AWS::Backup::BackupSelection", "AWS::Backup::BackupVault"},
}

# The example's warm-standby and active-active tiers (test_warm_standby_rehearsal.py,
# test_active_active_rehearsal.py): the primary (or owner) as prod, with the API domain's base path mapping
# (moto's API refuses one to a stage, which it has no model for); the standby (or peer) has no workers and
# none of the account's guard rails (the primary's stack holds them).
_DOMAIN = frozenset({"AWS::ApiGateway::BasePathMapping"})
_SECOND_REGION = _DOMAIN | (_SKIPPED_IN_BOTH - {
    "AWS::AutoScaling::ScalingPolicy", "AWS::Budgets::Budget", "AWS::CloudTrail::Trail", "AWS::Config::ConfigRule",
    "AWS::Config::ConfigurationRecorder", "AWS::Config::DeliveryChannel", "AWS::GuardDuty::Detector",
    "AWS::SecurityHub::Hub", "AWS::SecurityHub::Standard"})
TIER_SKIPPED_TYPES = {
    "PaymentPlatform-prod-audit-replica": SKIPPED_TYPES["PaymentPlatform-prod-audit-replica"],
    "PaymentPlatform-prod": SKIPPED_TYPES["PaymentPlatform-prod"] | _DOMAIN,
    "PaymentPlatform-prod-standby": _SECOND_REGION,
    "PaymentPlatform-prod-peer": _SECOND_REGION,
}
