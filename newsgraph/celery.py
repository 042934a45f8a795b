"""The Celery app, and what a worker does when it starts: load spaCy in each
pool process, re-queue the stories a crash left pending."""

import logging
import os

from celery import Celery
from celery.signals import worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsgraph.settings.base")

app = Celery("newsgraph")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger("newsgraph.celery")

SWEEP_TASK = "articles.tasks.sweep_pending_articles"
REPUBLISH_TASK = "newsgraph.republish_queued"  # newsgraph/infra/queue.py
# Stories stored this recently are most likely still in the queue; older ones
# still pending when a worker starts were lost with a crash (the enqueue
# after commit never ran, or the broker lost its queue). Beat's periodic
# sweep (CELERY_BEAT_SCHEDULE) re-queues them all the same, later.
LEFT_PENDING_AFTER_SECONDS = 60


@worker_process_init.connect
def load_spacy_model(**kwargs) -> None:
    """Load spaCy once per worker process, before the first task
    (CELERY_WORKER_PROC_ALIVE_TIMEOUT is raised to leave it time)."""
    if os.environ.get("NEWSGRAPH_PRELOAD_MODEL", "1") == "1":
        from entities.nlp import get_nlp  # Django is set up in the pool process by now

        get_nlp()


@worker_ready.connect
def requeue_left_pending(sender, **kwargs) -> None:
    """Re-queue the stories a crash left pending, and publish the tasks the
    outbox kept during an outage, when a worker starts. Sent as tasks, so the
    database is reached from a pool process: never from this parent, whose
    connection forked children would share."""
    try:
        sender.app.send_task(SWEEP_TASK, kwargs={"older_than_seconds": LEFT_PENDING_AFTER_SECONDS})
        sender.app.send_task(REPUBLISH_TASK)
    except Exception as exc:  # the broker went away again: beat's sweep will do it
        logger.warning("could not queue the sweep of pending stories: %s", exc)
