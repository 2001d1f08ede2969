"""The payment API's WAF v2 web ACL: per-IP rate limit, AWS managed rule groups, redacted logs."""

from __future__ import annotations

from typing import Optional

from aws_cdk import ArnFormat, Names, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from .._nag import acknowledge, acknowledge_log_retention
from .._names import deployment_suffix, top_level_unique_id

WINDOW_SECONDS = 300  # a rate-based rule counts requests over 5 minutes

# The AWS managed rule groups a web ACL may use, in evaluation order (each is one $1/month rule).
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )


class PaymentWebAcl(Construct):
    """A regional web ACL associated with one API Gateway stage (wafv2 has only L1 constructs)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage_arn: str,
        rate_limit: int,
        logging: bool,
        managed_rule_groups: tuple[str, ...] = MANAGED_RULE_GROUPS,
        key: kms.IKey,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        rules = [
            wafv2.CfnWebACL.RuleProperty(
                name="RateLimitPerIp",
                priority=0,
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        limit=rate_limit, aggregate_key_type="IP"
                    )
                ),
                visibility_config=_visibility("RateLimitPerIp"),
            )
        ]
        ordered = [group for group in MANAGED_RULE_GROUPS if group in managed_rule_groups]
        for priority, group in enumerate(ordered, start=1):
            rules.append(
                wafv2.CfnWebACL.RuleProperty(
                    name=group,
                    priority=priority,
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                            vendor_name="AWS", name=group
                        )
                    ),
                    visibility_config=_visibility(group),
                )
            )
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=Names.unique_resource_name(self, max_length=128),
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=rules,
            visibility_config=_visibility(top_level_unique_id(self)[-128:]),  # the same in a Stage
        )
        if "AWSManagedRulesKnownBadInputsRuleSet" not in ordered:
            acknowledge(self.web_acl, "The Known Bad Inputs group (Log4j and other Java exploit patterns) was left out "
                                      "through waf_managed_rule_groups: the payment API's handlers are Python, with no "
                                      "Java or Log4j on the request path; SQLi and XSS rules stay on.", "CKV_AWS_192")
        wafv2.CfnWebACLAssociation(self, "Association", resource_arn=stage_arn, web_acl_arn=self.web_acl.attr_arn)

        self.log_group: Optional[logs.LogGroup] = None
        if logging:
            # WAF delivers only to log groups named aws-waf-logs-*; the path keeps names unique per stack, the
            # stack ID's suffix per deployment (a group kept after a destroy never blocks the next deploy).
            name = f"aws-waf-logs-{Names.unique_resource_name(self, max_length=60)}-{deployment_suffix()}"
            self.log_group = logs.LogGroup(
                self,
                "Logs",
                log_group_name=name,
                retention=log_retention,
                encryption_key=key,
                # Nothing kept from a failed first deploy (its logs would be empty), the group kept otherwise.
                removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
                if removal_policy == RemovalPolicy.RETAIN else removal_policy,
            )
            acknowledge_log_retention(self.log_group, log_retention)
            log_group_arn = Stack.of(self).format_arn(
                service="logs", resource="log-group", resource_name=name,
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            config = wafv2.CfnLoggingConfiguration(
                self,
                "Logging",
                resource_arn=self.web_acl.attr_arn,
                log_destination_configs=[log_group_arn],
                # The credentials that identify a merchant (SigV4 or Cognito token, API key, session token).
                redacted_fields=[
                    wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": header})
                    for header in ("authorization", "x-api-key", "x-amz-security-token")
                ],
            )
            config.node.add_dependency(self.log_group)


