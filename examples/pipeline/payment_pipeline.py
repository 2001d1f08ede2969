"""PaymentPipeline: a CDK pipeline that deploys the example platform to dev, then to prod in a wave of
regions, and runs ``cdk-payments smoke`` against each stage before the next one starts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import pipelines
from constructs import Node
from platform_stacks import PROVIDERS, PaymentPlatformStage

from cdk_payments import AccountTrailMode, Profile

# The AWS CDK CLI of the example (examples/payment_platform/package.json): the pipeline's self-mutation
# step installs this one, not whatever is latest that day.
CDK_CLI_VERSION = "2.1148.1"
ACCOUNT = r"^\d{12}$"


@dataclass(frozen=True)
class PipelineSettings:
    """Where the pipeline runs and deploys (examples/pipeline/cdk.json; every value is a placeholder)."""

    repository: str  # owner/name of the repository the pipeline builds
    branch: str
    connection_arn: str  # an AWS CodeConnections (CodeStar) connection to that repository's host
    pipeline_env: cdk.Environment
    dev_env: cdk.Environment
    prod_account: str
    prod_regions: Mapping[str, str]  # prod region -> its audit replica's region
    prod_provider: str
    cost_center: str
    alert_email: str | None = None

    @classmethod
    def from_context(cls, node: Node) -> "PipelineSettings":
        """Every bad value at once, as ``ValueError``."""
        import re

        get = node.try_get_context
        errors = []
        accounts = {key: str(get(key) or "") for key in ("pipelineAccount", "devAccount", "prodAccount")}
        errors += [f"{key}: expected a 12-digit account ID, got {value!r}"
                   for key, value in accounts.items() if not re.match(ACCOUNT, value)]
        regions = get("prodRegions") or {}
        if not isinstance(regions, dict) or not regions:
            errors.append(f"prodRegions: expected a map of prod region to audit replica region, got {regions!r}")
            regions = {}
        replicas = list(regions.values())
        # Two primaries replicating into one region would both create the stack PaymentPlatform-prod-audit-replica.
        if len(set(replicas)) != len(replicas) or set(replicas) & set(regions):
            errors.append(f"prodRegions: each prod region needs an audit replica region of its own, in no prod "
                          f"region, got {regions}")
        provider = get("prodProvider") or "http"
        sandbox_allowed = str(get("allowSandboxInProd")).lower() == "true"
        if provider not in PROVIDERS or (provider == "sandbox" and not sandbox_allowed):
            errors.append(f"prodProvider: expected http (or sandbox with allowSandboxInProd=true: never real "
                          f"payments), got {provider!r}")
        for key in ("repository", "branch", "connectionArn", "pipelineRegion", "devRegion", "costCenter"):
            if not get(key):
                errors.append(f"{key}: required")
        if errors:
            raise ValueError("invalid pipeline context:\n  - " + "\n  - ".join(errors))
        return cls(
            repository=get("repository"), branch=get("branch"), connection_arn=get("connectionArn"),
            pipeline_env=cdk.Environment(account=accounts["pipelineAccount"], region=get("pipelineRegion")),
            dev_env=cdk.Environment(account=accounts["devAccount"], region=get("devRegion")),
            prod_account=accounts["prodAccount"], prod_regions=dict(regions), prod_provider=provider,
            cost_center=get("costCenter"), alert_email=get("alertEmail"),
        )


class PaymentPipeline(cdk.Stack):
    """The pipeline stack (in ``settings.pipeline_env``) and its stages, which are created in the app.

    Dev deploys first; then the prod wave deploys each region's stage in parallel, each with its audit replica.
    After each stage, ``cdk-payments smoke`` drives a payment through it from CodeBuild: the step assumes the
    stage's ``SmokeTestRole`` (which trusts the pipeline's account) and signs as its demo merchant.
    """

    def __init__(self, scope: cdk.App, id: str, *, settings: PipelineSettings, **kwargs: Any) -> None:
        super().__init__(scope, id, env=settings.pipeline_env, **kwargs)
        source = pipelines.CodePipelineSource.connection(settings.repository, settings.branch,
                                                         connection_arn=settings.connection_arn)
        self.pipeline = pipelines.CodePipeline(
            self, "Pipeline",
            # The platform's stacks deploy into other accounts: the artifact bucket needs a key they may use.
            cross_account_keys=True,
            enable_key_rotation=True,  # the artifact keys, in every region (CKV/KMS5, PCI DSS 3.6.4)
            cli_version=CDK_CLI_VERSION,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(build_image=codebuild.LinuxBuildImage.STANDARD_7_0)),
            synth=pipelines.ShellStep(
                "Synth", input=source, primary_output_directory="examples/pipeline/cdk.out",
                # `python app.py` writes the same cloud assembly as `cdk synth`, without the CLI.
                commands=["pip install .", "cd examples/pipeline", "python app.py"],
            ),
        )
        platform = dict(cost_center=settings.cost_center, alert_email=settings.alert_email,
                        smoke_test_principal=iam.AccountPrincipal(settings.pipeline_env.account))
        self._source = source
        self.stages: list[PaymentPlatformStage] = []
        dev = PaymentPlatformStage(scope, "Dev", env=settings.dev_env, profile=Profile.DEV, finding_sources="create",
                                   **platform)
        self.pipeline.add_stage(dev, post=[self._smoke(dev)])
        self.stages.append(dev)
        wave = self.pipeline.add_wave("Prod")
        for index, (region, replica_region) in enumerate(settings.prod_regions.items()):
            stage = PaymentPlatformStage(
                scope, f"Prod-{region}", env=cdk.Environment(account=settings.prod_account, region=region),
                profile=Profile.PROD, replica_region=replica_region,
                provider_adapter=PROVIDERS[settings.prod_provider](), finding_sources="create",
                # The account's trail records every region: one, from the first prod region.
                account_trail=AccountTrailMode.CREATE if index == 0 else AccountTrailMode.EXISTING,
                **platform)
            wave.add_stage(stage, post=[self._smoke(stage)])
            self.stages.append(stage)

    def _smoke(self, stage: PaymentPlatformStage) -> pipelines.CodeBuildStep:
        """``cdk-payments smoke`` against the stage's platform stack, as its demo merchant."""
        platform = stage.platform
        account, region = platform.account, platform.region
        return pipelines.CodeBuildStep(
            "Smoke",
            input=self._source,  # `pip install .`: the library at the commit that was synthesized
            env_from_cfn_outputs={"SMOKE_ROLE_ARN": platform.outputs["SmokeTestRoleArn"],
                                  "DEMO_MERCHANT_ROLE_ARN": platform.outputs["DemoMerchantRoleArn"],
                                  "API_URL": platform.outputs["ApiUrl"]},
            install_commands=["pip install ."],
            commands=[
                # A profile that assumes the stage's smoke role with CodeBuild's own credentials.
                'aws configure set profile.smoke.role_arn "$SMOKE_ROLE_ARN"',
                "aws configure set profile.smoke.credential_source EcsContainer",
                f"AWS_PROFILE=smoke cdk-payments smoke --stack {platform.stack_name} --region {region} "
                '--api-url "$API_URL" --role-arn "$DEMO_MERCHANT_ROLE_ARN"',
            ],
            # Role names are generated (<stack name>-SmokeTestRole...): the ARN is known only after the deploy.
            role_policy_statements=[iam.PolicyStatement(
                actions=["sts:AssumeRole"],
                resources=[f"arn:{cdk.Aws.PARTITION}:iam::{account}:role/{platform.stack_name}-SmokeTestRole*"])],
        )
