"""Asynchronous settlement: the payments queue, its dead-letter queue, and the event handler that
consumes the queue."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, Names
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .._nag import acknowledge
from .._names import pin_top_level_logical_id
from .._queues import dead_letter_queue, encrypted_queue
from .functions import HANDLER_TIMEOUT
from .settings import PaymentApiSettings


@dataclass(frozen=True)
class Settlement:
    queue: sqs.Queue
    dead_letter_queue: sqs.Queue

    @classmethod
    def build(cls, scope: Construct, settings: PaymentApiSettings, key: kms.IKey) -> "Settlement":
        dlq = dead_letter_queue(
            scope, "DeadLetterQueue", key, holds="payments that failed settlement max_receive_count times and "
            "failed asynchronous invocations (the DeadLetters alarm fires)", redrive_queue=True)
        queue = encrypted_queue(
            scope,
            "Queue",
            key,
            visibility_timeout=Duration.seconds(HANDLER_TIMEOUT.to_seconds() * 6),
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=settings.max_receive_count),
        )
        return cls(queue, dlq)

    def consume_with(self, handler: lambda_.Function, *, max_concurrency: int) -> None:
        """``handler`` settles the queue's payments, a batch at a time, reporting each failure apart."""
        consume(self.queue, handler, max_concurrency=max_concurrency)


def consume(queue: sqs.IQueue, handler: lambda_.Function, *, max_concurrency: int) -> None:
    """``handler`` consumes ``queue`` in batches of 10, each failed message reported apart (partial batch
    response), at most ``max_concurrency`` invocations at once."""
    handler.add_event_source(
        sources.SqsEventSource(queue, batch_size=10, max_batching_window=Duration.seconds(1),
                               report_batch_item_failures=True, max_concurrency=max_concurrency)
    )
    # Named after the queue's path, which a Stage prefixes: Lambda would refuse the renamed mapping.
    pin_top_level_logical_id(handler.node.find_child(f"SqsEventSource:{Names.unique_id(queue)}").node.default_child,
                             prefix="SqsEventSource:", named_after=queue)
    for mapping in handler.node.children:
        if isinstance(mapping, lambda_.EventSourceMapping):
            acknowledge(
                mapping,
                "SQS event source mappings take no on-failure destination: failed messages go to the "
                "queue's own dead-letter queue after max_receive_count deliveries, and that DLQ alarms.",
                "Serverless-LambdaEventSourceMappingDestination",
            )
