"""PCI DSS v4.0.1 requirements -> the rules of :class:`~cdk_payments.nag.PciDss401Checks`, as data.

One source for the pack, the acknowledgement helper, the mapping table in ``docs/pci-dss-4.md`` and the
control mapping an assessor reads (``tools/pci_mapping.py`` writes both from here).

The mapping follows AWS's published material: the AWS Config conformance pack "Operational Best
Practices for PCI DSS 4.0" (its managed rules and their requirement ids) and the related requirements
Security Hub lists for its PCI DSS v4.0.1 controls. ``source`` names the Config rule and, where there is
one, the Security Hub control. ``origin`` says whose code checks the template: a cdk-nag pack whose rule
function is reused (``PCI.DSS.321``, ``NIST.800.53.R5``, ``HIPAA.Security``) or this library (``own``),
only where cdk-nag has no rule.
"""

from __future__ import annotations

from dataclasses import dataclass

PACK = "PCI.DSS.401"
CONFORMANCE_PACK = 'AWS Config conformance pack "Operational Best Practices for PCI DSS 4.0"'


@dataclass(frozen=True)
class PciRule:
    """One rule of the pack: what it checks, against which requirements, from which published source."""

    name: str
    requirements: tuple[str, ...]
    resource_types: tuple[str, ...]
    origin: str
    source: str
    info: str
    # True where the requirement ids were read in the conformance pack's published mapping table when
    # this mapping was written; the others follow Security Hub's control reference (see docs/pci-dss-4.md).
    from_conformance_pack_table: bool = False

    @property
    def rule_id(self) -> str:
        return f"{PACK}-{self.name}"


def _rule(name, requirements, resource_types, origin, source, info, *, table=False) -> PciRule:
    return PciRule(name, tuple(requirements.split()), tuple(resource_types.split()), origin, source, info, table)


RULES: tuple[PciRule, ...] = (
    # Requirement 1: network security controls.
    _rule("EC2RestrictedSSH", "1.2.8 1.3.1 1.3.2 1.4.2 1.5.1", "AWS::EC2::SecurityGroup", "PCI.DSS.321",
          "Config restricted-ssh; Security Hub EC2.13",
          "The security group allows unrestricted SSH access (0.0.0.0/0 or ::/0).", table=True),
    _rule("EC2InstanceNoPublicIp", "1.3.1 1.4.4", "AWS::EC2::Instance", "PCI.DSS.321",
          "Config ec2-instance-no-public-ip; Security Hub EC2.9",
          "The EC2 instance is associated with a public IP address."),
    _rule("EC2LaunchTemplatePublicIpDisabled", "1.4.5", "AWS::EC2::LaunchTemplate", "own",
          "Config ec2-launch-template-public-ip-disabled",
          "The launch template gives a network interface a public IP address.", table=True),
    _rule("VPCDefaultSecurityGroupClosed", "1.2.7 1.3.1", "AWS::EC2::VPC", "PCI.DSS.321",
          "Config vpc-default-security-group-closed; Security Hub EC2.2",
          "The VPC's default security group allows inbound or outbound traffic."),
    _rule("LambdaFunctionPublicAccessProhibited", "1.4.4 7.2.1", "AWS::Lambda::Permission", "PCI.DSS.321",
          "Config lambda-function-public-access-prohibited; Security Hub Lambda.1",
          "The Lambda function permission grants public access."),
    _rule("S3BucketLevelPublicAccessProhibited", "1.4.4", "AWS::S3::Bucket", "PCI.DSS.321",
          "Config s3-bucket-level-public-access-prohibited; Security Hub S3.8",
          "The S3 bucket does not block public access at the bucket level."),
    _rule("WAFv2WebACLNotEmpty", "1.2.8 1.3.1 1.3.2 1.4.2 1.5.1", "AWS::WAFv2::WebACL", "own",
          "Config wafv2-webacl-not-empty (mapped as waf-global-webacl-not-empty)",
          "The WAFv2 web ACL has no rules or rule groups.", table=True),
    # Requirement 2: secure configurations.
    _rule("EC2IMDSv2Enabled", "2.2.6", "AWS::EC2::Instance AWS::AutoScaling::AutoScalingGroup", "NIST.800.53.R5",
          "Config ec2-imdsv2-check; Security Hub EC2.8",
          "The EC2 instance does not require IMDSv2."),
    _rule("EC2LaunchTemplateIMDSv2", "2.2.6", "AWS::EC2::LaunchTemplate", "own",
          "Security Hub EC2.170 (EC2 launch templates should use IMDSv2)",
          "The launch template does not require IMDSv2 (MetadataOptions.HttpTokens is not 'required')."),
    # Requirement 3: protect stored account data.
    _rule("S3DefaultEncryptionKMS", "3.5.1", "AWS::S3::Bucket", "PCI.DSS.321",
          "Config s3-default-encryption-kms",
          "The S3 bucket is not encrypted with a KMS key by default."),
    _rule("DynamoDBTableEncryptedKMS", "3.5.1", "AWS::DynamoDB::Table AWS::DynamoDB::GlobalTable", "own",
          "Config dynamodb-table-encrypted-kms",
          "The DynamoDB table is not encrypted with a KMS key (SSESpecification.SSEEnabled with SSEType KMS)."),
    _rule("CloudWatchLogGroupEncrypted", "3.5.1", "AWS::Logs::LogGroup", "PCI.DSS.321",
          "Config cloudwatch-log-group-encrypted",
          "The CloudWatch log group is not encrypted with a KMS key."),
    _rule("SNSEncryptedKMS", "3.5.1", "AWS::SNS::Topic", "PCI.DSS.321",
          "Config sns-encrypted-kms",
          "The SNS topic is not encrypted with a KMS key."),
    _rule("APIGWCacheEnabledAndEncrypted", "3.5.1", "AWS::ApiGateway::Stage", "PCI.DSS.321",
          "Config api-gw-cache-enabled-and-encrypted; Security Hub APIGateway.5",
          "The API Gateway stage does not have caching enabled and encrypted for all methods."),
    _rule("KMSBackingKeyRotationEnabled", "3.6.1 3.7.4", "AWS::KMS::Key", "PCI.DSS.321",
          "Config cmk-backing-key-rotation-enabled; Security Hub KMS.4",
          "The KMS symmetric key does not have automatic key rotation enabled."),
    # Requirement 4: strong cryptography in transit.
    _rule("S3BucketSSLRequestsOnly", "4.2.1", "AWS::S3::Bucket AWS::S3::BucketPolicy", "PCI.DSS.321",
          "Config s3-bucket-ssl-requests-only; Security Hub S3.5",
          "The S3 bucket or bucket policy does not require requests to use TLS."),
    _rule("APIGWSSLEnabled", "4.2.1", "AWS::ApiGateway::Stage", "PCI.DSS.321",
          "Config api-gw-ssl-enabled; Security Hub APIGateway.2",
          "The API Gateway REST API stage is not configured with a client certificate for its backend."),
    # Requirement 6: web application protection.
    _rule("APIGWAssociatedWithWAF", "6.4.2", "AWS::ApiGateway::Stage", "PCI.DSS.321",
          "Config api-gw-associated-with-waf; Security Hub APIGateway.4",
          "The API Gateway REST API stage is not associated with a WAFv2 web ACL."),
    # Requirements 7 and 8: access control and authentication.
    _rule("IAMPolicyNoStatementsWithAdminAccess", "7.2.1 7.2.2", "AWS::IAM::Policy AWS::IAM::ManagedPolicy "
          "AWS::IAM::Role AWS::IAM::User AWS::IAM::Group", "PCI.DSS.321",
          "Config iam-policy-no-statements-with-admin-access; Security Hub IAM.1",
          "The IAM policy grants full administrative access (Action * on Resource *)."),
    _rule("IAMUserNoPolicies", "7.2.1 7.2.2", "AWS::IAM::User AWS::IAM::Policy AWS::IAM::ManagedPolicy",
          "PCI.DSS.321", "Config iam-user-no-policies-check; Security Hub IAM.2",
          "The IAM policy is attached at the user level."),
    _rule("SecretsManagerRotationEnabled", "8.3.9 8.6.3", "AWS::SecretsManager::Secret", "NIST.800.53.R5",
          "Config secretsmanager-secret-periodic-rotation; Security Hub SecretsManager.1",
          "The secret does not have automatic rotation scheduled."),
    # Requirement 10: log and monitor all access.
    _rule("APIGWExecutionLoggingEnabled", "10.2.1 10.4.2", "AWS::ApiGateway::Stage AWS::ApiGatewayV2::Stage",
          "PCI.DSS.321", "Config api-gw-execution-logging-enabled",
          "The API Gateway stage does not have execution logging enabled for all methods."),
    _rule("APIGWXrayEnabled", "10.2.1 10.2.1.1", "AWS::ApiGateway::Stage", "HIPAA.Security",
          "Config api-gw-xray-enabled",
          "The API Gateway REST API stage does not have X-Ray tracing enabled.", table=True),
    _rule("S3BucketLoggingEnabled", "10.2.1", "AWS::S3::Bucket", "PCI.DSS.321",
          "Config s3-bucket-logging-enabled; Security Hub S3.9",
          "The S3 bucket does not have server access logging enabled."),
    _rule("VPCFlowLogsEnabled", "10.2.1", "AWS::EC2::VPC", "PCI.DSS.321",
          "Config vpc-flow-logs-enabled; Security Hub EC2.6",
          "The VPC does not have an associated flow log."),
    _rule("WAFv2LoggingEnabled", "10.2.1 10.4.2", "AWS::WAFv2::WebACL", "PCI.DSS.321",
          "Config wafv2-logging-enabled; Security Hub WAF.11",
          "The WAFv2 web ACL does not have logging enabled."),
    _rule("CloudTrailEncryptionEnabled", "10.3.2", "AWS::CloudTrail::Trail", "PCI.DSS.321",
          "Config cloud-trail-encryption-enabled; Security Hub CloudTrail.2",
          "The CloudTrail trail does not encrypt its logs with a KMS key."),
    _rule("CloudTrailLogFileValidationEnabled", "10.3.2", "AWS::CloudTrail::Trail", "PCI.DSS.321",
          "Config cloud-trail-log-file-validation-enabled; Security Hub CloudTrail.4",
          "The CloudTrail trail does not have log file validation enabled."),
    _rule("CloudTrailCloudWatchLogsEnabled", "10.4.2", "AWS::CloudTrail::Trail", "PCI.DSS.321",
          "Config cloud-trail-cloud-watch-logs-enabled; Security Hub CloudTrail.5",
          "The CloudTrail trail does not send its events to CloudWatch Logs."),
    _rule("CloudWatchAlarmAction", "10.2.1.1", "AWS::CloudWatch::Alarm", "NIST.800.53.R5",
          "Config cloudwatch-alarm-action-check",
          "The CloudWatch alarm has no action (ALARM, OK or INSUFFICIENT_DATA).", table=True),
    _rule("CloudWatchLogGroupRetentionPeriod", "10.5.1", "AWS::Logs::LogGroup", "PCI.DSS.321",
          "Config cw-loggroup-retention-period-check",
          "The CloudWatch log group does not set a retention period (it would keep logs forever, unreviewed)."),
)

# Requirements no template can show: they are met by people, processes and the running account, and
# are listed here so the mapping never skips them silently.
NOT_CHECKABLE: tuple[tuple[str, str], ...] = (
    ("1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 8.1, 9.1, 10.1, 11.1, 12.1",
     "Policies, procedures, roles and responsibilities for each requirement: documents and people."),
    ("1.2.1-1.2.4, 1.2.6", "Network diagrams, data-flow diagrams and a reviewed inventory of services and ports."),
    ("2.2.1-2.2.2", "Configuration standards and vendor default accounts on the systems themselves."),
    ("3.2-3.4", "Which account data is kept, for how long, and that sensitive authentication data is not: "
     "decided by the application and its data retention policy."),
    ("3.6-3.7 (key custodians, split knowledge)", "Key-management procedures beyond rotation."),
    ("5.2-5.4", "Anti-malware on system components and anti-phishing controls for people."),
    ("6.2-6.3, 6.5", "Secure development, code review, vulnerability ranking and change management."),
    ("7.2.4-7.2.5, 8.2.6-8.2.8", "Periodic access reviews and inactive-account handling."),
    ("8.3-8.5 (people)", "Passwords, MFA and session policies for users: set in the identity provider and account."),
    ("9", "Physical access to cardholder data: AWS's responsibility for its data centres, the entity's for media."),
    ("10.4.1, 10.7", "That someone reviews the logs and alarms daily and responds to failures of critical controls "
     "(Security Hub automates part of the review: 10.4.1.1)."),
    ("11", "Wireless scans, vulnerability scans, penetration tests, change detection and intrusion detection "
     "processes."),
    ("12", "The information security policy, risk analysis, awareness training, third-party management and "
     "incident response plan."),
)

# Each requirement the library helps with -> the construct and the prop that implement it.
CONTROLS: tuple[tuple[str, str, str, str], ...] = (
    ("1.3.1", "CostOptimizedVpc", "nat, interface_endpoints",
     "Workloads run in private subnets; with NatStrategy.NONE they have no route to the internet at all."),
    ("1.3.1", "SecurePaymentApi", "vpc, vpc_subnets",
     "The payment handlers run inside the VPC, in the subnets the network construct chooses."),
    ("1.4.4", "AuditBucket", "(always on)", "Block Public Access on every bucket; no public ACLs or policies."),
    ("1.4.5", "PaymentWorkerFleet", "(always on)", "The launch template never assigns a public IP address."),
    ("2.2.6", "PaymentWorkerFleet", "(always on)", "The launch template requires IMDSv2."),
    ("3.5.1", "SecurePaymentApi", "encryption_key, existing_table",
     "The payments table, queues and logs are encrypted with the customer managed key."),
    ("3.5.1", "AuditBucket", "encryption_key", "The audit bucket is encrypted with SSE-KMS under the given key."),
    ("3.5.1", "AlertTopics", "encryption_key", "Alert topics are encrypted with the given key."),
    ("3.6.1", "SecurePaymentApi, AuditBucket, AlertTopics", "encryption_key",
     "Keys the library creates rotate yearly; a key you pass is checked by KMSBackingKeyRotationEnabled."),
    ("4.2.1", "SecurePaymentApi", "(always on)", "TLS only: the API is HTTPS, buckets deny requests without TLS."),
    ("6.4.2", "SecurePaymentApi", "waf_rate_limit",
     "A WAFv2 web ACL with AWS managed rule groups and a rate-based rule protects the public API."),
    ("7.2.1", "SecurePaymentApi", "authorization, user_pool, merchants",
     "Every route is authorized (IAM, Cognito or API keys); a merchant's identity comes from authentication."),
    ("7.2.2", "(all constructs)", "(always on)",
     "Each function and instance role holds only the grants its own code uses."),
    ("8.3.9", "SecurePaymentApi", "provider_adapter, rotation_days",
     "The provider credential lives in Secrets Manager, encrypted with the customer managed key and rotated."),
    ("10.2.1", "SecurePaymentApi", "log_retention",
     "API Gateway access and execution logs, X-Ray traces and structured handler logs."),
    ("10.2.1", "CostOptimizedVpc", "flow_logs, flow_log_bucket", "VPC flow logs to CloudWatch Logs or S3."),
    ("10.3.2", "AuditBucket", "profile", "Object Lock (compliance mode in prod) keeps audit records unalterable."),
    ("10.4.1", "ComplianceBaseline", "security_topic, create_guardduty_detector",
     "GuardDuty and Config findings are routed to the security topic."),
    ("10.4.1.1", "ComplianceBaseline", "enable_security_hub, pci_dss_standard_versions",
     "Security Hub runs the PCI DSS v4.0.1 standard's automated checks."),
    ("10.5.1", "SecurePaymentApi", "log_retention",
     "Logs are kept a year in the prod profile; log_retention sets another period."),
    ("10.7.2", "PaymentDashboards, SecurePaymentApi", "alarm_topic",
     "Alarms on errors, throttles, DLQ depth and WAF blocks notify the operations topic."),
)


def rule_names() -> frozenset[str]:
    return frozenset(rule.name for rule in RULES)
