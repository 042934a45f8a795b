"""The outbox: tasks stored in the database until the broker takes them.

An editor's decision is stored here inside its own transaction (so it is
saved even when Redis is down), and any task whose publishing failed is
stored here afterwards; `newsgraph.infra.queue.republish_queued` (beat's
sweep, and each worker as it starts) publishes them again. Tasks are
idempotent (acks_late), so a row published twice does no harm.
"""

from __future__ import annotations

from django.db import models


class QueuedTask(models.Model):
    name = models.CharField(max_length=200)  # the task's registered Celery name
    args = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "newsgraph"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name}{tuple(self.args)!r}"
