"""The wiring's one background job: publishing the task outbox again
(newsgraph/infra/queue.py), by beat periodically and by each worker as it
starts (newsgraph/celery.py)."""

from celery import shared_task

from newsgraph.infra.queue import REPUBLISH_TASK, republish_queued


@shared_task(name=REPUBLISH_TASK)
def republish() -> int:
    return republish_queued()
