"""Powertools logger, tracer and metrics shared by the handlers, with card numbers masked."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from .pan import mask_pans


class PanMaskingFormatter(LambdaPowertoolsFormatter):
    """Structured JSON log lines with any card number masked, whatever field it hides in."""

    def serialize(self, log: dict) -> str:
        return mask_pans(super().serialize(log))


SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "payments")
logger = Logger(service=SERVICE, logger_formatter=PanMaskingFormatter())
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "CdkPayments"))
