"""Price tables per region (each price with its AWS pricing page and the date it was read) and the
region each stack of a cloud assembly deploys to."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, Optional

PRICES_FILE = Path(__file__).with_name("prices.json")
DEFAULT_REGION = "us-east-1"


@cache
def load_prices() -> dict[str, Any]:
    """The shipped price table: ``regions.<region>.prices.<name> = {usd, unit, source, read, basis}``."""
    return json.loads(PRICES_FILE.read_text())


def supported_regions() -> list[str]:
    return sorted(load_prices()["regions"])


def region_table(region: str) -> dict[str, Any]:
    """``{price name: USD}`` for ``region``; a region without a table is refused, never priced as another."""
    regions = load_prices()["regions"]
    if region not in regions:
        raise ValueError(f"region: no price table for {region!r}; supported: {', '.join(sorted(regions))} "
                         "(add one to cost/prices.json, every price with its source and date)")
    return {name: price["usd"] for name, price in regions[region]["prices"].items()}


def region_notes(region: str) -> list[str]:
    region_table(region)  # refuse unknown regions here too
    return list(load_prices()["regions"][region]["notes"])


def stack_regions(assembly: Path) -> dict[str, Optional[str]]:
    """Each stack's region from the cloud assembly manifest; None for an environment-agnostic stack."""
    manifest = assembly / "manifest.json"
    if not manifest.is_file():
        return {}
    regions: dict[str, Optional[str]] = {}
    for artifact in json.loads(manifest.read_text()).get("artifacts", {}).values():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        template = artifact.get("properties", {}).get("templateFile", "")
        region = artifact.get("environment", "").rsplit("/", 1)[-1]
        regions[template.removesuffix(".template.json")] = None if region in ("", "unknown-region") else region
    return regions
