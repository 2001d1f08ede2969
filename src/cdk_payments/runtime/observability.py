"""Powertools logger, tracer and metrics shared by the handlers, with card numbers masked."""

from __future__ import annotations

import logging
import os
from typing import Any, Callable

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from .pan import mask_pans


class PanMaskingFormatter(LambdaPowertoolsFormatter):
    """Structured JSON log lines with any card number masked, whatever field it hides in."""

    def serialize(self, log: dict) -> str:
        return mask_pans(super().serialize(log))


def _masking(factory: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    """Wrap the record factory so every record's message, from any logger, has card numbers masked:
    Powertools' own package logger (on with ``POWERTOOLS_DEBUG``) logs route arguments and paths
    through a plain formatter that ours cannot reach."""

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return record
        masked = mask_pans(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info:  # plain formatters print exc_text when it is set
            record.exc_text = mask_pans(logging.Formatter().formatException(record.exc_info))
        return record

    make_record.masks_pans = True  # type: ignore[attr-defined]
    return make_record


if not getattr(logging.getLogRecordFactory(), "masks_pans", False):
    logging.setLogRecordFactory(_masking(logging.getLogRecordFactory()))

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "payments")
logger = Logger(service=SERVICE, logger_formatter=PanMaskingFormatter())
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "CdkPayments"))
