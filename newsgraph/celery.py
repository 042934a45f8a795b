import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsgraph.settings.base")

app = Celery("newsgraph")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def load_spacy_model(**kwargs) -> None:
    """Load spaCy once per worker process, before the first task
    (CELERY_WORKER_PROC_ALIVE_TIMEOUT is raised to leave it time)."""
    if os.environ.get("NEWSGRAPH_PRELOAD_MODEL", "1") == "1":
        from entities.nlp import get_nlp

        get_nlp()
