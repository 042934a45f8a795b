"""runserver, which in the embedded default first extracts, in the
background, the stories an earlier process left pending (it crashed or was
stopped before its in-process extraction ran; issue #15).

With a broker a worker's start and beat's periodic sweep re-queue them
(newsgraph/celery.py). "newsgraph" comes first in INSTALLED_APPS so this
command wraps the next app's runserver (whitenoise's, which serves no static
files itself).
"""

from __future__ import annotations

import logging
import threading
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.db import connections

from articles.handover import extract_left_pending

logger = logging.getLogger("newsgraph.runserver")


def _next_runserver() -> type:
    names = [config.name for config in apps.get_app_configs()]
    for name in [*names[names.index("newsgraph") + 1 :], "django.core"]:
        try:
            return import_module(f"{name}.management.commands.runserver").Command
        except ModuleNotFoundError:
            continue
    raise ImportError("no runserver command to wrap")  # pragma: no cover


def extract_left_pending_in_background() -> threading.Thread:
    def run() -> None:
        try:
            if count := extract_left_pending():
                logger.info("extracted %d stories left pending by an earlier run", count)
        except Exception:
            logger.exception("the stories left pending could not be extracted")
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name="extract-left-pending", daemon=True)
    thread.start()
    return thread


class Command(_next_runserver()):
    def on_bind(self, server_port):
        super().on_bind(server_port)
        if settings.CELERY_TASK_ALWAYS_EAGER:
            extract_left_pending_in_background()
