"""`cdk-payments capacity cdk.out/`: the highest sustained payments per second a deployment admits,
read from its synthesized templates, and which limit binds.

Every limit on the path of a payment, each turned into payments per second:

* **WAF**: a rate-based rule allows ``Limit`` requests per ``EvaluationWindowSec`` from one client IP
  (``--client-ips`` of them; a merchant's checkout backend often has one egress IP);
* **API Gateway**: the stage's throttle for ``POST /payments`` (or ``/*/*``), the usage plan's per
  key (``--api-keys``), and the account's regional quota (10,000 requests/s by default);
* **the processor**: its reserved concurrency, else the account's concurrency quota
  (``--account-concurrency``: 10 in a new account, 1,000 after a request) less what the event handler
  may take, divided by a request's duration (``--processor-ms``: the provider's answer and two AWS
  round trips);
* **the event handler**: the queue's event source ``MaximumConcurrency`` (else its reserved or the
  account's concurrency) x the records one invocation settles per second (``--settle-ms`` each);
* **DynamoDB**: an on-demand table sustains 4,000 write and 12,000 read request units a second when
  new (then doubles its previous peak; ``OnDemandThroughput`` caps it, ``WarmThroughput`` raises the
  start); a payment writes 3 units (claim, outcome, settlement; items under 1 KB) and reads 1;
* **the queue**: a standard queue has no practical limit; FIFO allows 300 messages/s.

Sustained means the queue does not grow without bound: the intake and the settlement both keep up.
No ``aws_cdk`` import: this reads JSON only.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

API_HANDLER, EVENT_HANDLER = "runtime.api.handler", "runtime.events.handler"
ACCOUNT_API_RPS = 10_000  # API Gateway's default throttle per account and region
ON_DEMAND_WRITES, ON_DEMAND_READS = 4_000, 12_000  # a new on-demand table (DynamoDB developer guide)
WRITES_PER_PAYMENT, READS_PER_PAYMENT = 3, 1
FIFO_MESSAGES_PER_SECOND = 300


@dataclass(frozen=True)
class Limit:
    name: str
    payments_per_second: float
    source: str
    """Where it comes from: the resource and property, or the assumption."""


@dataclass(frozen=True)
class Envelope:
    stack: str
    limits: list[Limit]

    @property
    def binding(self) -> Limit:
        return min(self.limits, key=lambda limit: limit.payments_per_second)

    def to_dict(self) -> dict[str, Any]:
        return {"stack": self.stack, "payments_per_second": round(self.binding.payments_per_second, 1),
                "binding": self.binding.name, "limits": [asdict(limit) for limit in self.limits]}


def _of_type(template: dict, type_: str) -> dict[str, dict]:
    return {name: r.get("Properties", {}) for name, r in template.get("Resources", {}).items() if r["Type"] == type_}


def _function(template: dict, handler: str) -> tuple[Optional[str], dict]:
    for name, props in _of_type(template, "AWS::Lambda::Function").items():
        if props.get("Handler") == handler:
            return name, props
    return None, {}


def _refers_to(value: Any, name: str) -> bool:
    return name in json.dumps(value)


def _waf_limits(template: dict, client_ips: int) -> list[Limit]:
    limits = []
    for acl, props in _of_type(template, "AWS::WAFv2::WebACL").items():
        for rule in props.get("Rules", []):
            rate = rule.get("Statement", {}).get("RateBasedStatement")
            if rate and rate.get("AggregateKeyType", "IP") in ("IP", "FORWARDED_IP"):
                window = int(rate.get("EvaluationWindowSec", 300))
                limits.append(Limit(f"WAF rate rule {rule.get('Name', '?')} ({client_ips} client IP)",
                                    int(rate["Limit"]) / window * client_ips,
                                    f"{acl}: {rate['Limit']} requests per {window} s per IP"))
    return limits


def _stage_limits(template: dict) -> list[Limit]:
    limits = [Limit("API Gateway account quota", ACCOUNT_API_RPS, "10,000 requests/s per account and region")]
    for stage, props in _of_type(template, "AWS::ApiGateway::Stage").items():
        for setting in props.get("MethodSettings", []):
            applies = (setting.get("ResourcePath"), setting.get("HttpMethod")) in (("/*", "*"), ("/~1payments", "POST"))
            if applies and "ThrottlingRateLimit" in setting:
                limits.append(Limit(f"stage throttle {setting['ResourcePath']} {setting['HttpMethod']}",
                                    float(setting["ThrottlingRateLimit"]), f"{stage}.MethodSettings"))
    return limits


def _usage_plan_limits(template: dict, api_keys: int) -> list[Limit]:
    limits = []
    for plan, props in _of_type(template, "AWS::ApiGateway::UsagePlan").items():
        rates = [("usage plan", props.get("Throttle", {}).get("RateLimit"), f"{plan}.Throttle")]
        for stage in props.get("ApiStages", []):
            for path, throttle in (stage.get("Throttle") or {}).items():
                if path in ("/payments/POST", "/*/*"):
                    rates.append((f"usage plan {path}", throttle.get("RateLimit"), f"{plan}.ApiStages.Throttle"))
        limits += [Limit(f"{name} ({api_keys} API key)", float(rate) * api_keys, source)
                   for name, rate, source in rates if rate is not None]
    return limits


def _settlement(template: dict, handler: Optional[str], account: int, settle_ms: float) -> tuple[list[Limit], int]:
    """The event handler's limit, and the concurrency it may take from the account."""
    if handler is None:
        return [], 0
    _, props = _function(template, EVENT_HANDLER)
    for mapping, source in _of_type(template, "AWS::Lambda::EventSourceMapping").items():
        if _refers_to(source.get("FunctionName"), handler):
            maximum = source.get("ScalingConfig", {}).get("MaximumConcurrency")
            if maximum:
                return [Limit("event source maximum concurrency", maximum * 1000 / settle_ms,
                              f"{mapping}.ScalingConfig.MaximumConcurrency = {maximum}, {settle_ms:g} ms a record")], maximum
    reserved = props.get("ReservedConcurrentExecutions")
    concurrency = reserved or account
    return [Limit("event handler concurrency", concurrency * 1000 / settle_ms,
                  f"{handler}.ReservedConcurrentExecutions = {reserved}" if reserved else
                  f"account concurrency {account}")], concurrency if reserved else 0


def _processor_limit(template: dict, account: int, settlement_share: int, processor_ms: float) -> list[Limit]:
    name, props = _function(template, API_HANDLER)
    if name is None:
        return []
    reserved = props.get("ReservedConcurrentExecutions")
    if reserved:
        return [Limit("processor reserved concurrency", reserved * 1000 / processor_ms,
                      f"{name}.ReservedConcurrentExecutions = {reserved}, {processor_ms:g} ms a request")]
    others = sum(p.get("ReservedConcurrentExecutions", 0) for n, p in _of_type(template, "AWS::Lambda::Function").items()
                 if n != name)
    available = max(account - settlement_share - others, 0)
    return [Limit("account concurrency quota", available * 1000 / processor_ms,
                  f"{account} in the account, {settlement_share + others} taken by the other functions, "
                  f"{processor_ms:g} ms a request")]


def _table_limits(template: dict) -> list[Limit]:
    limits = []
    for table, props in _of_type(template, "AWS::DynamoDB::Table").items():
        if props.get("BillingMode") == "PAY_PER_REQUEST":
            cap = props.get("OnDemandThroughput", {})
            warm = props.get("WarmThroughput", {})
            writes = min(cap.get("MaxWriteRequestUnits", float("inf")),
                         max(warm.get("WriteUnitsPerSecond", 0), ON_DEMAND_WRITES))
            reads = min(cap.get("MaxReadRequestUnits", float("inf")), max(warm.get("ReadUnitsPerSecond", 0), ON_DEMAND_READS))
            source = f"{table}: on-demand, {writes:g} WRU/s and {reads:g} RRU/s"
        else:
            provisioned = props.get("ProvisionedThroughput", {})
            writes, reads = provisioned.get("WriteCapacityUnits", 0), provisioned.get("ReadCapacityUnits", 0)
            source = f"{table}: provisioned, {writes} WCU and {reads} RCU"
        limits.append(Limit("DynamoDB writes", writes / WRITES_PER_PAYMENT, f"{source}; {WRITES_PER_PAYMENT} writes a payment"))
        limits.append(Limit("DynamoDB reads", reads / READS_PER_PAYMENT, f"{source}; {READS_PER_PAYMENT} read a payment"))
    return limits


def _queue_limits(template: dict) -> list[Limit]:
    return [Limit("SQS FIFO queue", FIFO_MESSAGES_PER_SECOND, f"{queue}: FIFO, 300 messages/s")
            for queue, props in _of_type(template, "AWS::SQS::Queue").items() if props.get("FifoQueue")]


def envelope(template: dict, *, stack: str = "stack", account_concurrency: int = 1000, processor_ms: float = 350,
             settle_ms: float = 20, client_ips: int = 1, api_keys: int = 1) -> Optional[Envelope]:
    """The limits of one template, or None when it has no payment API."""
    if _function(template, API_HANDLER)[0] is None:
        return None
    handler, _ = _function(template, EVENT_HANDLER)
    settlement, share = _settlement(template, handler, account_concurrency, settle_ms)
    limits = (_waf_limits(template, client_ips) + _stage_limits(template) + _usage_plan_limits(template, api_keys)
              + _processor_limit(template, account_concurrency, share, processor_ms) + settlement
              + _table_limits(template) + _queue_limits(template))
    return Envelope(stack, limits)


def assembly(path: Path | str, **options: Any) -> list[Envelope]:
    path = Path(path)
    files = [path] if path.is_file() else sorted(path.glob("*.template.json"))
    if not files:
        raise ValueError(f"path: no CloudFormation template found at {path} (synthesize first)")
    found = [envelope(json.loads(f.read_text()), stack=f.name.removesuffix(".template.json"), **options) for f in files]
    return [e for e in found if e is not None]


def _table(result: Envelope) -> str:
    lines = [f"{result.stack}: {result.binding.payments_per_second:,.1f} payments/s sustained, bound by "
             f"{result.binding.name}", f"  {'limit':48} {'payments/s':>12}  source"]
    for limit in sorted(result.limits, key=lambda item: item.payments_per_second):
        lines.append(f"  {limit.name[:48]:48} {limit.payments_per_second:12,.1f}  {limit.source}")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="cdk-payments capacity",
                                     description="Sustained payments per second of synthesized stacks, and the binding limit.")
    parser.add_argument("path", help="a cdk.out directory or one *.template.json")
    parser.add_argument("--account-concurrency", type=int, default=1000, choices=(10, 1000), metavar="N",
                        help="the account's Lambda concurrency quota: 10 (new account) or 1000 (after a request)")
    parser.add_argument("--processor-ms", type=float, default=350,
                        help="a POST's duration: the provider's answer plus two AWS round trips (default 350)")
    parser.add_argument("--settle-ms", type=float, default=20,
                        help="the event handler's time per record: three AWS calls and CPU (default 20)")
    parser.add_argument("--client-ips", type=int, default=1, help="client IPs the WAF counts separately (default 1)")
    parser.add_argument("--api-keys", type=int, default=1, help="API keys sharing the load (usage plans; default 1)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    options = parser.parse_args(argv)
    try:
        results = assembly(options.path, account_concurrency=options.account_concurrency,
                           processor_ms=options.processor_ms, settle_ms=options.settle_ms,
                           client_ips=options.client_ips, api_keys=options.api_keys)
    except ValueError as error:
        parser.error(str(error))
    if not results:
        parser.error(f"path: no stack at {options.path} has a payment API")
    if options.json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        print("\n\n".join(_table(r) for r in results))
    return 0
