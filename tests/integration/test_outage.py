"""Editors' decisions during a Redis outage (issue #20): with a real Redis
stopped mid-test, blocking an entity, merging two and undoing a rule in the
admin answer no error page; each decision is saved (the outbox of
newsgraph/infra/queue.py, and the block's flag at once) and applied by the
worker, once, when Redis is back and beat's sweep publishes the outbox."""

from __future__ import annotations

import pytest
from django.urls import reverse

from entities.decisions import QUEUE_DOWN
from entities.models import Alias, Entity, Mention
from newsgraph.infra.outbox import QueuedTask
from newsgraph.infra.queue import republish_queued
from tests.integration.processes import wait_for
from tests.integration.test_curation import dunmore, entity  # noqa: F401 (a fixture)

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),  # no collectstatic here
]

ENTITIES = reverse("admin:entities_entity_changelist")
ALIASES = reverse("admin:entities_alias_changelist")


def test_decisions_made_while_redis_is_down_are_saved_and_applied_once(
    dunmore,  # noqa: F811 (the fixture imported above)
    staff_client,
    broker,
):
    worker = dunmore
    glasgow = entity("Glasgow")
    shipyards, shipbuilding = entity("Dunmore Shipyards"), entity("Dunmore Shipbuilding")
    rule = Alias.objects.create(
        name="Dunmore Yards", entity=shipyards, origin=Alias.Origin.PARTIAL, evidence="test"
    )
    assert Mention.objects.filter(entity=glasgow).exists()

    broker.stop()
    try:
        answers = [
            staff_client.post(
                ENTITIES, {"action": "block", "_selected_action": [glasgow.pk]}, follow=True
            ),
            staff_client.post(
                ENTITIES,
                {
                    "action": "merge",
                    "_selected_action": [shipyards.pk, shipbuilding.pk],
                    "apply": "Apply",
                    "target": shipyards.pk,
                },
                follow=True,
            ),
            staff_client.post(
                ALIASES, {"action": "turn_off", "_selected_action": [rule.pk]}, follow=True
            ),
        ]
        for answer in answers:
            assert answer.status_code == 200, answer.content[:2000]
            assert QUEUE_DOWN in [str(m) for m in answer.context["messages"]]
        # Saved: the block's flag at once, the heavy parts in the outbox.
        assert Entity.objects.get(pk=glasgow.pk).blocked
        assert [t.name for t in QueuedTask.objects.order_by("id")] == [
            "entities.tasks.block_entities",
            "entities.tasks.merge_entities",
            "entities.tasks.set_alias_active",
        ]
        assert Entity.objects.filter(pk=shipbuilding.pk).exists()  # not applied yet
    finally:
        broker.start()

    # Beat's sweep (or a worker starting) publishes the outbox.
    wait_for(
        lambda: republish_queued() >= 0 and not QueuedTask.objects.exists(),
        what="the outbox to be published",
    )
    wait_for(
        lambda: (
            not Mention.objects.filter(entity=glasgow).exists()
            and not Entity.objects.filter(pk=shipbuilding.pk).exists()
            and not Alias.objects.get(pk=rule.pk).active
        ),
        what="the decisions to be applied",
        on_timeout=worker.tail,
    )
    wait_for(  # counts come with the rescoring the merge schedules
        lambda: Entity.objects.get(pk=shipyards.pk).story_count == 2,
        what="the merged entity's count",
        on_timeout=worker.tail,
    )
    assert "turned off by editor" in Alias.objects.get(pk=rule.pk).evidence  # who, by name
    for task in ("block_entities", "merge_entities", "set_alias_active"):
        assert len(worker.lines(rf"entities\.tasks\.{task}\[[^\]]+\] succeeded")) == 1, task
    assert republish_queued() == 0
