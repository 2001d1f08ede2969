"""cdk-nag rules packs shipped with cdk-payments: :class:`PciDss401Checks` (PCI DSS v4.0.1).

The pack loads cdk-nag on first use, so the constructs (which read the requirement data to mirror their
acknowledgements) do not load cdk-nag's jsii assembly when an app does not apply the pack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .requirements import CONTROLS, NOT_CHECKABLE, PACK, RULES, PciRule

if TYPE_CHECKING:
    from .pack import PciDss401Checks

__all__ = ["CONTROLS", "NOT_CHECKABLE", "PACK", "RULES", "PciDss401Checks", "PciRule"]


def __getattr__(name: str) -> Any:
    if name == "PciDss401Checks":
        from .pack import PciDss401Checks

        return PciDss401Checks
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
