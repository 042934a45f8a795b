"""The one queueing seam (newsgraph/infra/queue.py): no other way to start a
task, and an editor's decision saved and applied later when the broker is
down. The same with a real Redis stopped mid-test: tests/integration/test_outage.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from entities.models import Alias, Entity, Mention
from newsgraph.infra.outbox import QueuedTask
from newsgraph.infra.queue import enqueue, republish_queued
from testkit.servers import free_port
from tests.entities.conftest import KETTLES, entity_named

ROOT = Path(__file__).resolve().parents[2]
QUEUEING = re.compile(r"\.(delay|apply_async|delay_on_commit|send_task)\(")
# The tasks modules may start their own follow-ups; the seam publishes; the
# Celery app's worker start sends the sweeps.
ALLOWED = {"newsgraph/infra/queue.py", "newsgraph/celery.py"}


def test_no_module_starts_a_task_but_through_the_seam():
    offenders = []
    for package in ("articles", "entities", "newsgraph"):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if path.name == "tasks.py" or relative in ALLOWED:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if QUEUEING.search(line):
                    offenders.append(f"{relative}:{number}: {line.strip()}")
    assert not offenders, "queue work with newsgraph.infra.queue.enqueue:\n" + "\n".join(offenders)


class Broker:
    """Celery publishing to a port nothing listens on (a Redis outage), then
    back to running tasks in this process (the broker is back)."""

    def __init__(self, settings):
        from newsgraph.celery import app

        self.app, self.settings = app, settings
        self.previous = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}

    def down(self) -> None:
        url = f"redis://127.0.0.1:{free_port()}/0"
        self.settings.CELERY_BROKER_URL = url
        self.settings.CELERY_TASK_ALWAYS_EAGER = False
        self.app.conf.update(broker_url=url, task_always_eager=False)
        self.app._pool = None

    def up(self) -> None:
        self.settings.CELERY_TASK_ALWAYS_EAGER = True
        self.app.conf.update(**self.previous)
        self.app._pool = None


@pytest.fixture
def broker(settings):
    broker = Broker(settings)
    yield broker
    broker.up()


def test_an_editors_block_is_saved_when_the_broker_is_down_and_applied_later(
    transactional_db, admin_client, ingest_story, broker
):
    ingest_story(*KETTLES)
    kettles = entity_named("Kettles")
    assert Mention.objects.filter(entity=kettles).exists()
    broker.down()

    response = admin_client.post(
        "/admin/entities/entity/",
        {"action": "block", "_selected_action": [str(kettles.pk)], "index": "0"},
        follow=True,
    )

    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert any("saved and will be applied" in m for m in shown), shown
    kettles.refresh_from_db()
    assert kettles.blocked  # the decision, at once: pages no longer show it
    assert [(t.name, t.args) for t in QueuedTask.objects.all()] == [
        ("entities.tasks.block_entities", [[kettles.pk], response.wsgi_request.user.pk])
    ]  # with the editor, whom the history names
    assert republish_queued() == 0  # still down: kept
    assert QueuedTask.objects.count() == 1

    broker.up()
    assert republish_queued() == 1
    assert not QueuedTask.objects.exists()
    assert not Mention.objects.filter(entity=kettles).exists()  # the heavy part, applied


def test_a_task_that_could_not_be_published_is_kept(transactional_db, broker):
    broker.down()
    queued = enqueue("entities.tasks.rescore")
    assert queued.kept
    assert [(t.name, t.args) for t in QueuedTask.objects.all()] == [("entities.tasks.rescore", [])]


def test_a_published_decision_leaves_nothing_in_the_outbox(db, run_on_commit):
    alias = Alias.objects.create(name="Kettles Ltd", entity=Entity.objects.create(name="Kettles"))
    with run_on_commit():
        queued = enqueue("entities.tasks.apply_alias", alias.pk, durable=True)
        assert QueuedTask.objects.count() == 1  # stored with the transaction
    assert not queued.kept
    assert not QueuedTask.objects.exists()


def test_an_unknown_task_name_fails_in_the_caller(db):
    with pytest.raises(KeyError):
        enqueue("entities.tasks.no_such_task")
