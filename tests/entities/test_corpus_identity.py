"""One entity per real thing, across stories (SPEC §10), through the real
pipeline: spaCy, in-story resolution, corpus resolution, background
re-resolution (run eagerly here, as the embedded default does)."""

from entities.models import Alias, DuplicateCandidate, Entity, Mention
from entities.normalize import key_variants
from entities.places import place_for
from entities.settle import corpus_settle
from tests.entities.conftest import about, entity_named


def visible_names() -> set[str]:
    return set(Entity.objects.filter(mentions__isnull=False).values_list("name", flat=True))


# --- countries and states from maintained data --------------------------------------------


def test_us_spellings_are_one_country(ingest_story):
    a = ingest_story(
        "Talks resume",
        "WASHINGTON - U.S. officials met Iranian envoys in Geneva on Monday.",
    )
    b = ingest_story(
        "Sanctions",
        "The United States said on Tuesday it would extend sanctions on Iran.",
    )
    c = ingest_story("Trade", "US exports to China rose in March, the Commerce Department said.")
    united_states = {about(s).get("United States") for s in (a, b, c)}
    assert None not in united_states
    assert len({m.entity_id for m in united_states}) == 1
    rules = Alias.objects.filter(origin=Alias.Origin.DATA, entity__name="United States")
    assert "U.S." in {r.name for r in rules}  # "US" is the same name, undotted
    assert all("country_converter" in r.evidence for r in rules)


def test_a_country_and_its_people_stay_two_entities(ingest_story):
    story = ingest_story(
        "Tehran vote",
        "Iranians voted on Friday. Iran's interior ministry said turnout was high.",
    )
    names = about(story)
    assert names["Iran"].entity_id != names["Iranians"].entity_id


def test_place_data_keeps_nations_and_abbreviations_apart():
    assert place_for("Britain").name == "United Kingdom"
    assert place_for("U.K.").name == "United Kingdom"
    assert place_for("England") is None  # a nation of its own (ISO 3166-2)
    assert place_for("Calif.").name == "California"
    assert place_for("Iran Air") is None
    assert place_for("Iranian") is None


# --- partial names across stories -----------------------------------------------------------


def test_a_partial_name_joins_the_full_name_that_arrives_later(ingest_story):
    early = ingest_story(
        "Kremlin", "President Yeltsin left hospital on Monday, his doctors said in Moscow."
    )
    assert "Yeltsin" in about(early)
    ingest_story("Russia", "Russian President Boris Yeltsin met his security chief in Moscow.")
    # New evidence re-resolved the stored story, from its stored spans.
    assert about(early)["Boris Yeltsin"].surfaces == "Yeltsin"
    rule = Alias.objects.get(name="Yeltsin")
    assert (rule.origin, rule.entity.name) == (Alias.Origin.PARTIAL, "Boris Yeltsin")


def test_a_new_full_name_is_read_into_the_newest_partial_stories_only(ingest_story, monkeypatch):
    from entities import corpus

    monkeypatch.setattr(corpus, "NEW_NAME_STORIES", 1)
    older = ingest_story(
        "Kremlin", "President Yeltsin left hospital on Monday, his doctors said in Moscow."
    )
    newer = ingest_story("Duma", "Yeltsin spoke to the Duma on Tuesday, his office said.")
    older.published_at = older.published_at.replace(year=older.published_at.year - 1)
    older.save(update_fields=["published_at"])
    Mention.objects.filter(article=older).update(published_at=older.published_at)
    ingest_story("Russia", "Russian President Boris Yeltsin met his security chief in Moscow.")
    # The newest story that named him by surname only is re-read; an older
    # one keeps what it was resolved to (the bound keeps a new name's cost
    # flat as the corpus grows).
    assert "Boris Yeltsin" in about(newer)
    assert "Yeltsin" in about(older) and "Boris Yeltsin" not in about(older)


def test_context_decides_between_two_full_names(ingest_story):
    ingest_story(
        "Campaign",
        "President Bill Clinton campaigned in Ohio against Bob Dole on Monday.",
    )
    ingest_story(
        "Senate race",
        "Hillary Clinton spoke at a library in Chappaqua about her Senate campaign.",
    )
    bare = ingest_story("Poll", "Clinton leads Dole by 12 points in Ohio, a poll showed on Sunday.")
    assert about(bare)["Bill Clinton"].surfaces == "Clinton"


def test_an_ambiguous_partial_name_is_left_apart_and_proposed(ingest_story):
    ingest_story("One", "Boris Johnson spoke to reporters in London on Monday.")
    ingest_story("Two", "Michael Johnson won the 200 metres in Atlanta on Thursday.")
    bare = ingest_story("Three", "Johnson said on Friday that he would not stand again.")
    waugh = about(bare)["Johnson"]
    proposed = DuplicateCandidate.objects.filter(status="open")
    pairs = {frozenset([p.entity_id, p.other_id]) for p in proposed}
    mark, steve = entity_named("Boris Johnson"), entity_named("Michael Johnson")
    assert frozenset([waugh.entity_id, mark.id]) in pairs
    assert frozenset([waugh.entity_id, steve.id]) in pairs


# --- acronyms, spellings, group forms ---------------------------------------------------------


def test_an_acronym_defined_in_one_story_joins_its_expansion_in_others(ingest_story):
    ingest_story(
        "Militias",
        "The Popular Mobilization Forces (PMF) said on Monday they would stay in Mosul.",
    )
    later = ingest_story("Baghdad", "BAGHDAD - The PMF denied the report on Tuesday.")
    assert about(later)["Popular Mobilization Forces"].surfaces == "PMF"
    rule = Alias.objects.get(name="PMF")
    assert rule.origin == Alias.Origin.DEFINITION


def test_dotted_and_undotted_acronyms_are_one_name():
    assert set(key_variants("u.n.")) >= {"u.n.", "un"}
    assert set(key_variants("un")) >= {"u.n.", "un"}


def test_a_group_in_singular_plural_and_adjective_is_one_entity(ingest_story):
    a = ingest_story("Protest", "Iraqis marched in Basra on Friday.")
    b = ingest_story("Talks", "An Iraqi delegation arrived in Ankara on Monday.")
    assert (
        about(a)["Iraqis"].entity_id
        == about(b)[next(iter(about(b).keys() & {"Iraqis", "Iraqi"}))].entity_id
    )


# --- one type, one display name ---------------------------------------------------------------


def test_type_and_display_name_follow_the_corpus_unless_an_editor_chose(ingest_story):
    for n in range(3):
        ingest_story(f"March {n}", f"The march through London on day {n} was calm, police said.")
    london = entity_named("London")
    Entity.objects.filter(pk=london.pk).update(name="LONDON", type="ORG", unsettled=True)
    corpus_settle()
    london.refresh_from_db()
    assert (london.name, london.type) == ("London", "GPE")

    Entity.objects.filter(pk=london.pk).update(name="LONDON", type_locked=True, unsettled=True)
    Entity.objects.filter(pk=london.pk).update(name_locked=True, type="ORG")
    corpus_settle()
    london.refresh_from_db()
    assert (london.name, london.type) == ("LONDON", "ORG")


def test_mentions_remember_ners_label(ingest_story):
    story = ingest_story("Visit", "Angela Merkel visited Paris on Monday.")
    assert Mention.objects.get(article=story, entity__name="Angela Merkel").label == "PERSON"


def test_a_partial_name_joins_a_full_name_from_the_same_batch(db):
    from articles.services import article_ingest
    from entities.extraction import articles_extract

    full = article_ingest(
        url="https://x.example/1",
        title="Orders",
        text="President Donald Trump signed orders.",
        enqueue=False,
    ).article
    bare = article_ingest(
        url="https://x.example/2",
        title="Peso",
        text="The peso fell after Trump spoke.",
        enqueue=False,
    ).article
    articles_extract(article_ids=[full.id, bare.id], rescore=False)
    assert about(bare)["Donald Trump"].surfaces == "Trump"


def test_each_entity_is_settled_on_its_own_newest_mentions(db, monkeypatch):
    # Settling reads a sample of each entity's newest mentions: a batch of
    # entities must not share or mix their samples.
    from datetime import timedelta

    from django.utils import timezone

    from entities import settle
    from tests.factories import ArticleFactory, EntityFactory, MentionFactory

    monkeypatch.setattr(settle, "SETTLE_SAMPLE", 2)
    now = timezone.now()
    acme = EntityFactory(name="ACME Works", type="ORG")
    nile = EntityFactory(name="Nile", type="ORG")
    # Acme's two newest stories call it a company, its older ones a place.
    for days, label in [(9, "GPE"), (8, "GPE"), (7, "GPE"), (2, "ORG"), (1, "ORG")]:
        story = ArticleFactory(published_at=now - timedelta(days=days))
        MentionFactory(article=story, entity=acme, label=label, surfaces="Acme Works")
    # The Nile's newest stories (older than Acme's) call it a place.
    for days, label in [(30, "ORG"), (20, "LOC"), (10, "LOC")]:
        story = ArticleFactory(published_at=now - timedelta(days=days))
        MentionFactory(article=story, entity=nile, label=label, surfaces="Nile")
    Entity.objects.update(unsettled=True)

    settle.settle()

    acme.refresh_from_db()
    nile.refresh_from_db()
    assert (acme.name, acme.type) == ("Acme Works", "ORG")
    assert (nile.name, nile.type) == ("Nile", "LOC")
