"""What the xdist workers of one test run share: the first worker to ask builds it into a folder, the
others wait on the folder's lock and read it (the pattern pytest-xdist documents for session data).

A synthesis costs seconds of jsii and Node for each process that repeats it, and a session fixture with
parameters is set up again each time a module switches parameter: building once per run and reading
the folder afterwards is what keeps the suite's time near the sum of its distinct work.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Callable


def run_temp(tmp_path_factory) -> Path:
    """A folder of this test run that every xdist worker sees (their base temps share a parent)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def shared(folder: Path, build: Callable[[Path], None]) -> Path:
    """``folder``, built by ``build(folder)`` once per run whichever worker asks first."""
    _build_once(folder, build, block=True)
    return folder


def shared_each(builds: dict[Path, Callable[[Path], None]]) -> None:
    """Every folder built once per run; workers that ask at the same time build different folders
    (one skips what another is building, then waits for it) instead of one waiting for all."""
    busy = [folder for folder, build in builds.items() if not _build_once(folder, build, block=False)]
    for folder in busy:
        _build_once(folder, builds[folder], block=True)


def shared_first(folder: Path, build: Callable[[Path], None], meanwhile: dict[Path, Callable[[Path], None]]) -> Path:
    """``folder`` as ``shared`` gives it; while another worker is building it, build what of
    ``meanwhile`` nobody is building yet, rather than wait idle."""
    if not _build_once(folder, build, block=False):
        for other, other_build in meanwhile.items():
            try:
                _build_once(other, other_build, block=False)
            except Exception:  # noqa: BLE001 - not ours to report: whoever asks for it builds it again and fails
                pass
    return shared(folder, build)


def _build_once(folder: Path, build: Callable[[Path], None], *, block: bool) -> bool:
    """False when ``block`` is off and another worker holds the folder's lock."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f"{folder.name}.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if block else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        if not (folder / ".complete").exists():
            build(folder)
            (folder / ".complete").touch()
    return True
