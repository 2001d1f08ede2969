#!/usr/bin/env python3
"""The feature flags a new CDK app gets (`cdk init`), from the installed aws-cdk-lib.

aws-cdk-lib ships them as recommended-feature-flags.json, the file `cdk init` copies into a new
app's cdk.json; the Python package carries it inside its jsii bundle. `python
tools/cdk_feature_flags.py` writes them into the example's cdk.json (after an aws-cdk-lib upgrade);
`--check` fails when cdk.json differs from them.
"""

from __future__ import annotations

import json
import sys
import tarfile
from pathlib import Path

import aws_cdk

ROOT = Path(__file__).resolve().parent.parent
CDK_JSON = ROOT / "examples" / "payment_platform" / "cdk.json"


def recommended_flags() -> dict:
    """The installed aws-cdk-lib's recommended feature flags, in its own order."""
    (bundle,) = Path(aws_cdk.__file__).parent.joinpath("_jsii").glob("aws-cdk-lib@*.jsii.tgz")
    with tarfile.open(bundle) as archive:
        return json.load(archive.extractfile("package/recommended-feature-flags.json"))


def with_recommended_flags(cdk_json: dict) -> dict:
    """``cdk_json`` with the app's own context first and exactly the recommended flags after it."""
    own = {key: value for key, value in cdk_json.get("context", {}).items() if not key.startswith("@aws-cdk")}
    return {**cdk_json, "context": {**own, **recommended_flags()}}


def main(argv: list[str]) -> int:
    current = json.loads(CDK_JSON.read_text())
    wanted = with_recommended_flags(current)
    if "--check" in argv:
        if current != wanted:
            print(f"{CDK_JSON} does not carry aws-cdk-lib's recommended flags: run {sys.argv[0]}", file=sys.stderr)
            return 1
        return 0
    CDK_JSON.write_text(json.dumps(wanted, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
