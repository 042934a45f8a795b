"""Publishing Celery tasks after commit, surviving a broker outage.

A task is given as a task object or by its registered name: a layer that must
start work in a higher one (ingest starting extraction) names the task instead
of importing it (articles/extraction.py).
"""

from __future__ import annotations

import logging

from celery import Task, current_app
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger("newsgraph.queue")


def task_named(name: str) -> Task:
    """The registered task called `name`, importing the apps' task modules
    first if this process has not (a web or command process never starts a
    worker, which is what imports them otherwise)."""
    app = current_app
    if name not in app.tasks:
        app.loader.import_default_modules()
    return app.tasks[name]


def enqueue(task: Task | str, *args, countdown: float | None = None) -> None:
    """Publish `task(*args)` once the current transaction commits.

    If the broker is down the error is logged, not raised: the data is already
    committed (a story stays *pending*) and the periodic sweep re-enqueues it,
    so an editor never gets an error page for a Redis outage (SPEC §9).
    """

    if isinstance(task, str):
        task = task_named(task)

    def publish() -> None:
        try:
            task.apply_async(args=args, countdown=countdown)
        except (BrokerError, ConnectionError, OSError) as exc:
            logger.warning("broker unavailable, %s%r not queued: %s", task.name, args, exc)

    transaction.on_commit(publish)
