"""ProviderAdapter: which payment provider adapter the payment functions load, and its code."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from .functions import PACKAGE_DIR, runtime_code

BUILTIN_MODULE = "runtime.providers."
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".git", ".venv", "cdk.out")


@dataclass(frozen=True, kw_only=True)
class ProviderAdapter:
    """The adapter class the processor, the event handler and the rotation function load.

    Use :meth:`sandbox` (the default), :meth:`http` (the generic JSON-over-HTTPS adapter, configured
    by the provider secret's ``base_url`` and ``api_key``), or :meth:`from_directory` for your own
    subclass of ``runtime.providers.PaymentProvider``.
    """

    module: str
    """The adapter's module, importable from the functions' asset root (e.g. ``acme_pay.adapter``)."""
    class_name: str
    """The adapter class in ``module``; constructed once per execution environment, without arguments."""
    directory: Optional[str] = None
    """Copied into the functions' asset beside ``runtime/``: your modules and their vendored
    dependencies (``pip install --target``); None for the built-in adapters."""

    @classmethod
    def sandbox(cls) -> "ProviderAdapter":
        """The built-in sandbox: no provider account needed (see ``runtime/providers/sandbox.py``)."""
        return cls(module=f"{BUILTIN_MODULE}sandbox", class_name="SandboxProvider")

    @classmethod
    def http(cls) -> "ProviderAdapter":
        """The built-in generic JSON-over-HTTPS adapter (see ``runtime/providers/http.py``)."""
        return cls(module=f"{BUILTIN_MODULE}http", class_name="HttpProvider")

    @classmethod
    def from_directory(cls, directory: str, *, module: str, class_name: str) -> "ProviderAdapter":
        """Your adapter: ``module`` (e.g. ``acme_pay.adapter``) under ``directory``, with its dependencies."""
        return cls(module=module, class_name=class_name, directory=directory)

    @property
    def environment(self) -> dict[str, str]:
        return {"PROVIDER_MODULE": self.module, "PROVIDER_CLASS": self.class_name}

    def problems(self) -> list[str]:
        """What is wrong with this adapter, for ``ValueError`` at construction (empty when nothing)."""
        problems = []
        if not isinstance(self.module, str) or not _DOTTED.match(self.module):
            problems.append(f"module must be a dotted Python module name, got {self.module!r}")
        if not isinstance(self.class_name, str) or not self.class_name.isidentifier():
            problems.append(f"class_name must be a Python identifier, got {self.class_name!r}")
        if problems:
            return problems
        if self.directory is None:
            if not self.module.startswith(BUILTIN_MODULE) or not _module_file(PACKAGE_DIR, self.module):
                problems.append(f"module {self.module!r} is not a built-in adapter; give its directory "
                                "(ProviderAdapter.from_directory)")
            return problems
        root = Path(self.directory)
        if not root.is_dir():
            return [f"directory {self.directory!r} does not exist or is not a directory"]
        if (root / "runtime").exists() or self.module.split(".")[0] == "runtime":
            problems.append("directory must not contain a top-level 'runtime' package: it would replace the "
                            "library's handlers")
        elif not _module_file(root, self.module):
            problems.append(f"module {self.module!r} is not in {self.directory!r} (no .py file or package for it)")
        return problems

    def code(self) -> lambda_.Code:
        """The functions' asset: ``runtime/``, plus this adapter's directory when it has one."""
        if self.directory is None:
            return runtime_code()
        # Local bundling: a plain file copy, so synthesis needs neither Docker nor a network.
        return lambda_.Code.from_asset(
            str(Path(self.directory).resolve()),
            asset_hash_type=AssetHashType.OUTPUT,
            bundling=BundlingOptions(image=DockerImage.from_registry("local-copy-only"),
                                     local=_CopyBesideRuntime(str(Path(self.directory).resolve()))),
        )


def _module_file(root: Path, module: str) -> bool:
    path = root.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


@jsii.implements(ILocalBundling)
class _CopyBesideRuntime:
    """Copies the library's ``runtime/`` package and the user's directory into one asset."""

    def __init__(self, directory: str) -> None:
        self._directory = directory

    def try_bundle(self, output_dir: str, *_options: Any, **_keywords: Any) -> bool:  # jsii passes the options
        shutil.copytree(PACKAGE_DIR / "runtime", Path(output_dir) / "runtime", ignore=_IGNORE, dirs_exist_ok=True)
        shutil.copytree(self._directory, output_dir, ignore=_IGNORE, dirs_exist_ok=True)
        return True
