"""cdk-nag rules packs shipped with cdk-payments: :class:`PciDss401Checks` (PCI DSS v4.0.1)."""

from .pack import PciDss401Checks
from .requirements import CONTROLS, NOT_CHECKABLE, PACK, RULES, PciRule

__all__ = ["CONTROLS", "NOT_CHECKABLE", "PACK", "RULES", "PciDss401Checks", "PciRule"]
