"""An editor's decision, queued: stored with the change in the task outbox
(newsgraph/infra/queue.py, inside the request's transaction) and applied by
a worker (the entities.tasks task named here); with Redis down the editor is
told the change is saved, and beat's sweep or the next worker to start
applies it. The admin (entities/admin.py) queues every curation this way.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest

from newsgraph.infra.queue import enqueue

QUEUE_DOWN = (
    "The task queue is unreachable: your change is saved and will be applied as soon as it is back."
)


def queue_decision(request: HttpRequest, task: str, *args) -> None:
    """An editor's decision: stored with the change (the outbox of
    newsgraph/infra/queue.py), applied by a worker (entities/tasks.py, by
    name); with Redis down the editor is told it is saved, and beat's sweep
    or the next worker to start applies it."""
    queued = enqueue(f"entities.tasks.{task}", *args, durable=True)

    def tell() -> None:
        if queued.kept and not getattr(request, "_queue_down_told", False):
            request._queue_down_told = True
            messages.warning(request, QUEUE_DOWN)

    transaction.on_commit(tell)
