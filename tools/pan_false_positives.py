"""How often card-number screening refuses identifiers that are not card numbers (target: < 0.1%).

    python tools/pan_false_positives.py [--samples 20000] [--seed 7] [--markdown]

Generates realistic identifiers with a seeded RNG (the same figures every run): epoch timestamps in
seconds, milliseconds and microseconds between 2001 and 2100 as they appear in idempotency keys,
order numbers and invoice numbers in the layouts shops and ERPs use, and phone numbers written as
people write them. Each is screened by ``runtime.pan.contains_pan`` (card ranges, lengths and Luhn)
and, for comparison, by Luhn alone on every 13 to 19 digit run (what screening did before 0.4).
Also prints the screening's CPU cost per identifier, since it runs on every request.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from cdk_payments.runtime.pan import contains_pan, luhn_valid  # noqa: E402

_LUHN_ONLY_CANDIDATE = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")
# 2001-01-01 to 2035-12-31 in epoch seconds. Later microsecond timestamps run into card ranges
# (2040 to 2056 begin 2221 to 2720: Mastercard's 16-digit range), as does any random 16-digit number.
_FIRST, _LAST = 978_307_200, 2_082_758_400


def luhn_only(text: str) -> bool:
    return any(luhn_valid(re.sub(r"[ -]", "", m.group())) for m in _LUHN_ONLY_CANDIDATE.finditer(text))


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


def _date(rng: random.Random) -> str:
    return time.strftime("%Y%m%d", time.gmtime(rng.randrange(_FIRST, _LAST)))


def _snowflake(rng: random.Random) -> int:
    milliseconds = rng.randrange(_FIRST * 1000, _LAST * 1000) - 1_288_834_974_657  # Twitter's epoch
    return max(milliseconds, 0) << 22 | rng.getrandbits(22)


def _phone(rng: random.Random) -> str:
    # (country code, national number lengths, how it is grouped when written)
    country, length, groups = rng.choice([
        ("1", 10, (3, 3, 4)), ("44", 10, (4, 6)), ("49", 11, (3, 8)), ("49", 10, (3, 7)), ("33", 9, (1, 2, 2, 2, 2)),
        ("39", 10, (3, 3, 4)), ("34", 9, (3, 3, 3)), ("86", 11, (3, 4, 4)), ("91", 10, (5, 5)), ("81", 10, (2, 4, 4)),
        ("55", 11, (2, 5, 4)), ("61", 9, (3, 3, 3)), ("62", 11, (3, 4, 4)), ("7", 10, (3, 3, 2, 2)),
    ])
    national = str(rng.randint(1, 9)) + _digits(rng, length - 1)
    parts, at = [], 0
    for size in groups:
        parts.append(national[at : at + size])
        at += size
    return rng.choice([
        f"+{country}{national}",  # E.164
        f"{country}{national}",  # E.164 stored without its "+"
        f"+{country} " + " ".join(parts),
        f"00{country} " + " ".join(parts),
        "0" + " ".join(parts),
        "tel:+" + country + "-" + "-".join(parts),
    ])


GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "epoch seconds": lambda rng: f"evt:{rng.randrange(_FIRST, _LAST)}",
    "epoch milliseconds": lambda rng: f"order:{rng.randrange(_FIRST * 1000, _LAST * 1000)}",
    "epoch microseconds": lambda rng: f"req-{rng.randrange(_FIRST * 10**6, _LAST * 10**6)}",
    "order numbers": lambda rng: rng.choice([
        f"#{rng.randrange(1000, 10**7)}",  # a shop's running number
        f"ORD-{_date(rng)}-{rng.randrange(10**6):06d}",
        f"{_date(rng)}{rng.randrange(10**6):06d}",
        f"{rng.randint(111, 114)}-{_digits(rng, 7)}-{_digits(rng, 7)}",  # marketplace style
        f"SO {rng.randrange(10**9, 10**10)}",  # ERP sales order
        f"{_snowflake(rng)}",  # 64-bit time-ordered id
    ]),
    "invoice numbers": lambda rng: rng.choice([
        f"Invoice INV-{_date(rng)[:4]}-{rng.randrange(10**6):06d}",
        f"Invoice {_date(rng)[:4]}{rng.randrange(10**8):08d}",
        f"INV{_date(rng)[:6]}{rng.randrange(10**7):07d}",
        f"Rechnung Nr. {_date(rng)[:4]}{rng.randrange(10**6):06d} vom {_date(rng)}",
        f"invoice {rng.randrange(10**4, 10**8)} for customer {rng.randrange(10**5, 10**9)}",
        f"Factura {rng.randrange(10**9, 10**10)} / pedido {rng.randrange(10**5, 10**7)}",
    ]),
    "phone numbers": _phone,
}


def measure(samples: int, seed: int) -> list[tuple[str, int, int, int]]:
    """(category, samples, refused now, refused by Luhn alone) per category, plus the total row."""
    rows = []
    for name, generate in GENERATORS.items():
        rng = random.Random(f"{seed}:{name}")
        values = [generate(rng) for _ in range(samples)]
        rows.append((name, samples, sum(map(contains_pan, values)), sum(map(luhn_only, values))))
    rows.append(("all", *(sum(r[i] for r in rows) for i in (1, 2, 3))))
    # Not in "all": uniformly random digits are as likely to be a card number as anything can be.
    rng = random.Random(f"{seed}:random")
    values = [f"ref {rng.randrange(10**15, 10**16)}" for _ in range(samples)]
    rows.append(("random 16-digit numbers", samples, sum(map(contains_pan, values)), sum(map(luhn_only, values))))
    return rows


def cost_microseconds(seed: int) -> float:
    """CPU per screened identifier, in microseconds."""
    rng = random.Random(seed)
    values = [generate(rng) for generate in GENERATORS.values() for _ in range(2000)]
    start = time.process_time()
    for value in values:
        contains_pan(value)
    return (time.process_time() - start) / len(values) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20_000, help="identifiers per category")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    print("| identifiers | samples | refused | refused by Luhn alone |\n|---|---:|---:|---:|")
    for name, count, now, before in measure(args.samples, args.seed):
        print(f"| {name} | {count:,} | {now / count:.3%} | {before / count:.2%} |")
    print(f"\nscreening cost: {cost_microseconds(args.seed):.1f} µs of CPU per identifier")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
