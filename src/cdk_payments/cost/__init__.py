"""Monthly cost estimates from synthesized CloudFormation templates (no aws_cdk, no Node.js)."""

from .estimate import CostEstimate, LineItem, estimate_assembly, estimate_template, load_prices

__all__ = ["CostEstimate", "LineItem", "estimate_assembly", "estimate_template", "load_prices"]
