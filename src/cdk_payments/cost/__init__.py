"""Monthly cost estimates from synthesized CloudFormation templates (no aws_cdk, no Node.js)."""

from .estimate import CostEstimate, LineItem, assembly_total, estimate_assembly, estimate_template
from .regions import load_prices, supported_regions

__all__ = ["CostEstimate", "LineItem", "assembly_total", "estimate_assembly", "estimate_template", "load_prices",
           "supported_regions"]
