"""hatchling metadata hook: the long description PyPI shows, built from README.md and API.md.

README.md is written for the repository; on PyPI its relative links would be dead and API.md would be
missing. The project page gets README.md followed by API.md (its headings one level down), and the
README's link to API.md points at that section's heading. Any other relative link fails the build.
"""

from __future__ import annotations

import re
from pathlib import Path

try:
    from hatchling.metadata.plugin.interface import MetadataHookInterface
except ImportError:  # imported by the tests, outside a build
    MetadataHookInterface = object

ANCHOR = "api-reference"  # the id of API.md's "# API Reference" heading
RELATIVE_LINK = re.compile(r"\]\((?!https?://|#|mailto:)([^)\s]+)\)")


def long_description(root: Path) -> str:
    readme = (root / "README.md").read_text().replace("[API.md](API.md)", f"[The API reference below](#{ANCHOR})")
    dead = RELATIVE_LINK.findall(readme)
    if dead:
        raise ValueError(f"README.md links {dead}, dead on PyPI: use absolute URLs")
    api = (root / "API.md").read_text()
    api = re.sub(r"^(#+) ", r"#\1 ", api, flags=re.M)  # under the README's top-level title
    return f"{readme.rstrip()}\n\n{api}"


class CustomMetadataHook(MetadataHookInterface):
    def update(self, metadata: dict) -> None:
        metadata["readme"] = {"content-type": "text/markdown", "text": long_description(Path(self.root))}
