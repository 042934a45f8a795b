"""The wiring's one table: the task outbox, owned by `newsgraph.infra.outbox`
(models are loaded from an app's `models` module, hence this import)."""

from newsgraph.infra.outbox import QueuedTask

__all__ = ["QueuedTask"]
