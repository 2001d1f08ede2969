"""Powertools logger, tracer and metrics shared by the handlers, with card numbers masked."""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager, contextmanager
from typing import Any, AsyncIterator, Callable, Iterator

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

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

class _NoSegment(BaseSegment):
    def close(self, end_time: Any = None) -> None: ...
    def add_subsegment(self, subsegment: Any) -> None: ...
    def remove_subsegment(self, subsegment: Any) -> None: ...
    def put_annotation(self, key: str, value: Any) -> None: ...
    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...
    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None: ...


class TracingOff(BaseProvider):
    """The Tracer's provider while tracing is off: Powertools' decorators run as they do with X-Ray
    switched off, but the X-Ray SDK is never imported. (Powertools imports it even when tracing is
    off, and outside Lambda its recorder creates two botocore clients: about 100 ms of cold start.)"""

    _segment = _NoSegment()

    @contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Iterator[BaseSegment]:
        yield self._segment

    @asynccontextmanager
    async def in_subsegment_async(self, name: Any = None, **kwargs: Any) -> AsyncIterator[BaseSegment]:
        yield self._segment

    def put_annotation(self, key: str, value: Any) -> None: ...
    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...
    def patch(self, modules: Any) -> None: ...
    def patch_all(self) -> None: ...


def _tracer() -> Tracer:
    """Powertools' Tracer, on X-Ray when Powertools' own rule turns tracing on (in Lambda, unless
    POWERTOOLS_TRACE_DISABLED is set or under SAM local), on ``TracingOff`` otherwise."""
    if Tracer._is_tracer_disabled():
        return Tracer(service=SERVICE, disabled=True, provider=TracingOff())
    return Tracer(service=SERVICE)


SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "payments")
logger = Logger(service=SERVICE, logger_formatter=PanMaskingFormatter())
tracer = _tracer()
metrics = Metrics(service=SERVICE, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "CdkPayments"))
