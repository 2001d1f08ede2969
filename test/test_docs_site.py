"""The documentation site (mkdocs-material, `projen docs`) builds from docs/ strictly and offline, and
has every page of docs/."""

from __future__ import annotations

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
