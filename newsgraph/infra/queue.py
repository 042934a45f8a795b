"""The one way to start a background task: `enqueue`, after commit, surviving
a broker outage.

A task is given as a task object or by its registered name: a layer that must
start work in a higher one (ingest starting extraction, an admin page starting
curation) names the task instead of importing it (articles/handover.py), and
nothing but the Celery entry points imports a `tasks` module (pyproject.toml).
A task that could not be published is kept in the outbox
(`newsgraph/infra/outbox.py`) and published again by `republish_queued`
(beat's sweep, and each worker as it starts).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from celery import Task, current_app
from django.db import DatabaseError, transaction
from kombu.exceptions import OperationalError as BrokerError

from newsgraph.infra.outbox import QueuedTask

logger = logging.getLogger("newsgraph.queue")

# What publishing raises when Redis is down or unreachable.
BROKER_ERRORS = (BrokerError, ConnectionError, OSError)
# The beat task that publishes the outbox again (newsgraph/tasks.py).
REPUBLISH_TASK = "newsgraph.republish_queued"


def task_named(name: str) -> Task:
    """The registered task called `name`, importing the apps' task modules
    first if this process has not (a web or command process never starts a
    worker, which is what imports them otherwise)."""
    app = current_app
    if name not in app.tasks:
        app.loader.import_default_modules()
    return app.tasks[name]


@dataclass
class Queued:
    """What became of one `enqueue`, known once the transaction commits."""

    name: str
    published: list[bool] = field(default_factory=list)

    @property
    def kept(self) -> bool:
        """The broker was unreachable: the task waits in the outbox."""
        return self.published == [False]


def enqueue(
    task: Task | str, *args, countdown: float | None = None, durable: bool = False
) -> Queued:
    """Publish `task(*args)` once the current transaction commits.

    If the broker is down the error is logged, not raised, and the task is
    stored in the outbox for `republish_queued`: an editor never gets an
    error page for a Redis outage (SPEC §9). `durable=True` (an editor's
    decision) stores it in the outbox first, inside the transaction, so the
    decision is saved with the data or not at all.

    The returned `Queued` says, once the transaction has committed, whether
    the task went to the broker or waits in the outbox.
    """
    name = task if isinstance(task, str) else task.name
    task_named(name)  # an unknown name fails here, in the caller, not after commit
    row_id = QueuedTask.objects.create(name=name, args=list(args)).pk if durable else None
    queued = Queued(name)
    transaction.on_commit(lambda: queued.published.append(_publish(name, args, countdown, row_id)))
    return queued


def _publish(name: str, args: tuple, countdown: float | None, row_id: int | None) -> bool:
    try:
        task_named(name).apply_async(args=args, countdown=countdown)
    except BROKER_ERRORS as exc:
        logger.warning("broker unavailable, %s%r kept to be published later: %s", name, args, exc)
        if row_id is None:
            try:
                QueuedTask.objects.create(name=name, args=list(args))
            except DatabaseError as store_exc:  # stories left pending are swept all the same
                logger.warning("could not keep %s%r either: %s", name, args, store_exc)
        return False
    if row_id is not None:
        QueuedTask.objects.filter(pk=row_id).delete()
    return True


def republish_queued(*, limit: int = 1000) -> int:
    """Publish the outbox's tasks, oldest first, deleting each once the
    broker has it; stops at the first broker error. How many went out."""
    published = 0
    for row in QueuedTask.objects.order_by("id")[:limit]:
        try:
            task_named(row.name).apply_async(args=row.args)
        except BROKER_ERRORS as exc:
            logger.warning("broker still unavailable, %d tasks kept: %s", limit - published, exc)
            break
        QueuedTask.objects.filter(pk=row.pk).delete()
        published += 1
    if published:
        logger.info("outbox: published %d kept tasks", published)
    return published
