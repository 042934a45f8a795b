"""Publishing Celery tasks after commit, surviving a broker outage."""

from __future__ import annotations

import logging

from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger("newsgraph.queue")


def enqueue(task, *args, countdown: float | None = None) -> None:
    """Publish `task(*args)` once the current transaction commits.

    If the broker is down the error is logged, not raised: the data is already
    committed (a story stays *pending*) and the periodic sweep re-enqueues it,
    so an editor never gets an error page for a Redis outage (SPEC §9).
    """

    def publish() -> None:
        try:
            task.apply_async(args=args, countdown=countdown)
        except (BrokerError, ConnectionError, OSError) as exc:
            logger.warning("broker unavailable, %s%r not queued: %s", task.name, args, exc)

    transaction.on_commit(publish)
