"""hatchling metadata hook: the long description PyPI shows, built from docs/index.md, README.md and API.md.

README.md is written for the repository (its two set-up commands for contributors come first); on
PyPI the page is for adopters. It opens with docs/index.md (what the library is, for whom, what it
costs, its maturity and licence, then ``pip install``), then README.md from its ``pypi:begin`` marker
on (its contents, features, quickstart, defaults, limitations, troubleshooting: the commands and the
introduction before the marker are the repository's), then API.md (its headings one level down).
Relative links would be dead on PyPI: README's link to API.md points at that section's heading,
links to docs pages point at the documentation site, and links to other files of the repository at
the repository (both from ``[project.urls]`` in pyproject.toml).
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

try:
    from hatchling.metadata.plugin.interface import MetadataHookInterface
except ImportError:  # imported by the tests, outside a build
    MetadataHookInterface = object

ANCHOR = "api-reference"  # the id of API.md's "# API Reference" heading
MARKER = "<!-- pypi:begin"  # README.md's part for PyPI starts at this comment
RELATIVE_LINK = re.compile(r"\]\((?!https?://|#|mailto:)([^)\s]+)\)")


def _absolute(target: str, *, base: str, repository: str, documentation: str) -> str:
    """``target``, relative to the directory ``base`` of the repository, as a URL that works on PyPI."""
    path, _, fragment = target.partition("#")
    full = os.path.normpath(os.path.join(base, path))
    if full == "API.md":
        return f"#{ANCHOR}"
    if full.startswith("docs/") and full.endswith(".md"):
        page = full[len("docs/"):-len(".md")]
        url = documentation if page == "index" else f"{documentation.rstrip('/')}/{page}/"
    else:
        url = f"{repository}/blob/main/{full}"
    return f"{url}#{fragment}" if fragment else url


def _links_absolute(text: str, base: str, urls: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        return f"]({_absolute(match.group(1), base=base, repository=urls['Repository'], documentation=urls['Documentation'])})"

    return RELATIVE_LINK.sub(replace, text)


def long_description(root: Path) -> str:
    urls = tomllib.loads((root / "pyproject.toml").read_text())["project"]["urls"]
    intro = _links_absolute((root / "docs" / "index.md").read_text(), "docs", urls)
    readme = (root / "README.md").read_text().replace("[API.md](API.md)", f"[The API reference below](#{ANCHOR})")
    readme = readme[readme.index("\n", readme.index(MARKER)) + 1:]  # docs/index.md has the title and introduction
    readme = _links_absolute(readme, "", urls)
    api = (root / "API.md").read_text()
    api = re.sub(r"^(#+) ", r"#\1 ", api, flags=re.M)  # under the page's top-level title
    return f"{intro.rstrip()}\n\n{readme.strip()}\n\n{api}"


class CustomMetadataHook(MetadataHookInterface):
    def update(self, metadata: dict) -> None:
        metadata["readme"] = {"content-type": "text/markdown", "text": long_description(Path(self.root))}
