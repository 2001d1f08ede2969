"""The documentation site (mkdocs-material, `projen docs`) builds from docs/ strictly and offline, and
has every page of docs/ in its nav."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_docs_site_builds_strictly_with_every_page(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    for page in (ROOT / "docs").glob("*.md"):
        built = tmp_path / ("index.html" if page.stem == "index" else f"{page.stem}/index.html")
        assert built.exists(), f"{page.name} is not in the site"
    html = (tmp_path / "index.html").read_text()
    assert "fonts.googleapis.com" not in html  # reads offline too
    # README.md's links into the docs land on a heading that exists (mkdocs and GitHub make the same ids).
    readme = (ROOT / "README.md").read_text()
    for page, anchor in re.findall(r"\]\(docs/([a-z0-9-]+)\.md#([^)]+)\)", readme):
        built = tmp_path / ("index.html" if page == "index" else f"{page}/index.html")
        assert f'id="{anchor}"' in built.read_text(), f"README links docs/{page}.md#{anchor}, which has no such heading"


def _nav_pages(entries) -> list[str]:
    pages = []
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages += _nav_pages(value) if isinstance(value, list) else [value]
    return pages


def test_every_page_is_in_the_nav_once():
    """A page left out of the nav is built but hidden: add it to DOCS_NAV in .projenrc.py, then run projen."""
    import yaml

    nav = _nav_pages(yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"])
    assert sorted(nav) == sorted(page.name for page in (ROOT / "docs").glob("*.md"))


def test_the_readme_links_every_page():
    """README.md is the entrance: its Documentation list links every page of docs/."""
    readme = (ROOT / "README.md").read_text()
    assert [page.name for page in sorted((ROOT / "docs").glob("*.md")) if f"](docs/{page.name}" not in readme] == []
