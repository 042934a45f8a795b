"""The editors' side of SPEC §10: the "Possible duplicates" queue and the
audit log of automatic rules, in the admin."""

import pytest

from entities import proposals, settle
from entities.models import Alias, DuplicateCandidate, Entity
from tests.factories import ArticleFactory, EntityFactory, MentionFactory


@pytest.fixture
def post(admin_client, django_capture_on_commit_callbacks):
    def run(url, data):
        with django_capture_on_commit_callbacks(execute=True):
            return admin_client.post(url, data)

    return run


QUEUE = "/admin/entities/duplicatecandidate/"


def _ambiguous_johnson(ingest_story):
    ingest_story("One", "Boris Johnson spoke to reporters in London on Monday.")
    ingest_story("Two", "Michael Johnson won the 200 metres in Atlanta on Thursday.")
    ingest_story("Three", "Johnson said on Friday that he would not stand again.")


def test_the_queue_shows_evidence_most_stories_first(ingest_story, admin_client):
    _ambiguous_johnson(ingest_story)
    page = admin_client.get(QUEUE).content.decode()
    assert "Boris Johnson" in page and "Michael Johnson" in page
    assert "sharing entities with the story" in page  # the evidence
    affected = list(DuplicateCandidate.objects.values_list("stories_affected", flat=True))
    assert affected == sorted(affected, reverse=True)


def test_reject_is_remembered_and_accept_merges(ingest_story, post):
    _ambiguous_johnson(ingest_story)
    boris = Entity.objects.get(name="Boris Johnson")
    pairs = list(DuplicateCandidate.objects.order_by("id"))
    rejected = next(p for p in pairs if boris.pk in (p.entity_id, p.other_id))
    accepted = next(p for p in pairs if p is not rejected)

    post(QUEUE, {"action": "reject", "_selected_action": [rejected.pk]})
    # The name comes back: the rejected pair is not proposed again.
    ingest_story("Four", "Johnson said on Saturday he had been misquoted.")
    rejected.refresh_from_db()
    assert rejected.status == DuplicateCandidate.Status.REJECTED
    assert DuplicateCandidate.objects.filter(status="open").count() == 1

    post(QUEUE, {"action": "accept", "_selected_action": [accepted.pk]})
    assert not Entity.objects.filter(name="Johnson").exists()
    michael = Entity.objects.get(name="Michael Johnson")
    assert michael.story_count == 3  # its own story and both of "Johnson"'s


def test_the_rules_list_is_the_audit_log_of_automatic_merges(ingest_story, admin_client):
    ingest_story("Sanctions", "The United States extended sanctions on Monday.")
    ingest_story("Envoys", "U.S. envoys met in Geneva on Tuesday.")
    page = admin_client.get("/admin/entities/alias/?origin=data").content.decode()
    assert "U.S." in page and "country_converter" in page
    rule = Alias.objects.get(name="U.S.")
    assert rule.automatic and rule.active


def test_the_queue_is_for_staff_only(client, ingest_story):
    _ambiguous_johnson(ingest_story)
    response = client.get(QUEUE)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_look_alike_pair_shows_its_story_counts_capped_for_editors(admin_client, monkeypatch):
    tehran = EntityFactory(name="Tehran", type="GPE")
    teheran = EntityFactory(name="Teheran", type="GPE")
    shared = ArticleFactory()
    for entity in (tehran, teheran):
        MentionFactory(article=shared, entity=entity)
    for _ in range(3):
        MentionFactory(entity=tehran)
    MentionFactory(entity=teheran)

    proposals.propose_look_alikes(teheran)
    pair = DuplicateCandidate.objects.get()
    assert pair.evidence["stories"] == {"Tehran": 4, "Teheran": 2}
    assert pair.evidence["together"] == 1
    assert pair.stories_affected == 5

    # Common names are counted up to a cap, and shown as "N+" stories.
    DuplicateCandidate.objects.all().delete()
    monkeypatch.setattr(proposals, "EVIDENCE_CAP", 3)
    monkeypatch.setattr("entities.admin.EVIDENCE_CAP", 3)
    proposals.propose_look_alikes(teheran)
    pair = DuplicateCandidate.objects.get()
    assert pair.evidence["stories"] == {"Tehran": 3, "Teheran": 2}
    page = admin_client.get(QUEUE).content.decode()
    assert "Tehran: 3+ stories" in page and "Teheran: 2 stories" in page


def test_one_settling_pass_proposes_each_look_alike_pair_once_and_never_a_name_with_itself(db):
    # Three spellings of one city, all touched by the same batch: they share
    # their first letters, so the pass reads one pool for them.
    names = ["Tehran", "Teheran", "Tehrann"]
    cities = [
        EntityFactory(name=name, type="GPE", story_count=3 - n) for n, name in enumerate(names)
    ]
    for city in cities:
        MentionFactory(entity=city, label="GPE")
    Entity.objects.update(unsettled=True)

    settle.settle()

    pairs = {
        frozenset(Entity.objects.get(pk=pk).name for pk in pair)
        for pair in DuplicateCandidate.objects.values_list("entity_id", "other_id")
    }
    # "Teheran" / "Tehrann" are less alike (0.86) than a pair must be.
    assert pairs == {frozenset({"Tehran", "Teheran"}), frozenset({"Tehran", "Tehrann"})}
    assert not Entity.objects.filter(unsettled=True).exists()


def test_a_short_form_is_proposed_with_the_longer_names_it_starts(db):
    short = EntityFactory(name="Corvane", type="ORG")
    systems = EntityFactory(name="Corvane Systems", type="ORG")
    EntityFactory(name="Corvanes Holdings", type="ORG")  # another word, not a longer form
    EntityFactory(name="Corvane Valley", type="GPE")  # a place is not a company's full name
    EntityFactory(name="Corvane", type="PERSON")

    proposals.propose_look_alikes(short)

    pair = DuplicateCandidate.objects.get(reason="short form")
    assert {pair.entity_id, pair.other_id} == {short.pk, systems.pk}
