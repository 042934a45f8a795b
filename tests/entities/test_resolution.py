"""In-story resolution (SPEC §5): unit tests of resolve_story, then real
stories through spaCy and the extraction service."""

from unittest import mock

from django.conf import settings

from articles.models import Article
from articles.services import article_ingest
from entities import extraction as services
from entities.extraction import articles_extract
from entities.models import Alias, BlockedName, Entity, Mention
from entities.resolution import RawSpan, resolve_story
from entities.services import alias_apply
from tests.entities.conftest import (
    BARE_TRUMP,
    DONALD_TRUMP,
    MELANIA,
    MERKEL,
    PMF,
    SMITHS,
    SUDANI,
    WALSHE,
    about,
    entity_named,
    mention_rows,
)

# --- resolve_story with hand-built spans ---------------------------------------------


def resolve(text: str, names: list[tuple[str, str]], *, blocked=(), aliases=None):
    """Spans for each (surface, label), found in order through the text."""
    spans, position = [], 0
    for surface, label in names:
        start = text.index(surface, position)
        spans.append(RawSpan(surface, label, start, start + len(surface)))
        position = start + len(surface)
    entities = resolve_story(
        spans,
        text=text,
        blocked_keys=frozenset(blocked),
        alias_targets=aliases or {},
    )
    return {e.name: e for e in entities}


def test_a_surname_joins_the_full_name_in_the_story():
    text = "Title\n\nArran Robert Walshe was arrested. Police said Walshe lied."
    found = resolve(text, [("Arran Robert Walshe", "PERSON"), ("Walshe", "PERSON")])
    assert list(found) == ["Arran Robert Walshe"]
    walshe = found["Arran Robert Walshe"]
    assert walshe.count == 2
    assert walshe.surfaces == ["Arran Robert Walshe", "Walshe"]
    assert [text[s:e] for s, e in walshe.spans] == ["Arran Robert Walshe", "Walshe"]


def test_a_surname_joins_a_full_name_with_an_arabic_particle():
    text = "Title\n\nMohammed al-Sudani spoke. Sudani left."
    found = resolve(text, [("Mohammed al-Sudani", "PERSON"), ("Sudani", "PERSON")])
    assert list(found) == ["Mohammed al-Sudani"]
    assert found["Mohammed al-Sudani"].count == 2


def test_a_partial_mislabelled_as_org_still_joins_the_person():
    text = "Title\n\nAngela Merkel spoke. Merkel left."
    found = resolve(text, [("Angela Merkel", "PERSON"), ("Merkel", "ORG")])
    assert list(found) == ["Angela Merkel"]
    assert found["Angela Merkel"].label == "PERSON"


def test_nested_full_names_are_one_person():
    text = "Title\n\nArran Robert Walshe spoke. Robert Walshe left. Walshe came back."
    names = [("Arran Robert Walshe", "PERSON"), ("Robert Walshe", "PERSON"), ("Walshe", "PERSON")]
    found = resolve(text, names)
    assert list(found) == ["Arran Robert Walshe"]
    assert found["Arran Robert Walshe"].count == 3


def test_a_surname_shared_by_two_people_is_left_alone():
    text = "Title\n\nJohn Smith and Mary Smith met. Smith said it went well."
    names = [("John Smith", "PERSON"), ("Mary Smith", "PERSON"), ("Smith", "PERSON")]
    found = resolve(text, names)
    assert sorted(found) == ["John Smith", "Mary Smith", "Smith"]
    assert found["John Smith"].count == found["Mary Smith"].count == 1


def test_a_place_is_not_a_partial_of_a_person():
    text = "Title\n\nGeorge Washington was born in Virginia. Washington is a city."
    found = resolve(text, [("George Washington", "PERSON"), ("Washington", "GPE")])
    assert sorted(found) == ["George Washington", "Washington"]


def test_a_first_name_is_not_a_partial():
    text = "Title\n\nAngela Merkel spoke. Angela left."
    found = resolve(text, [("Angela Merkel", "PERSON"), ("Angela", "PERSON")])
    assert sorted(found) == ["Angela", "Angela Merkel"]


def test_an_acronym_joins_its_expansion():
    text = "Title\n\nThe Kurdish Democratic Party won. The KDP celebrated."
    found = resolve(text, [("The Kurdish Democratic Party", "ORG"), ("KDP", "ORG")])
    assert list(found) == ["Kurdish Democratic Party"]
    kdp = found["Kurdish Democratic Party"]
    assert kdp.count == 2
    # The span is trimmed to the name itself, without "The".
    assert text[slice(*kdp.spans[0])] == "Kurdish Democratic Party"


def test_an_acronym_skips_minor_words():
    text = "Title\n\nThe International Committee of the Red Cross said the ICRC would help."
    names = [("International Committee of the Red Cross", "ORG"), ("ICRC", "ORG")]
    found = resolve(text, names)
    assert list(found) == ["International Committee of the Red Cross"]


def test_an_ambiguous_acronym_is_left_alone():
    text = "Title\n\nThe Popular Mobilization Forces and the People's Militia Front met. PMF won."
    names = [
        ("Popular Mobilization Forces", "ORG"),
        ("People's Militia Front", "ORG"),
        ("PMF", "ORG"),
    ]
    found = resolve(text, names)
    assert "PMF" in found
    assert found["Popular Mobilization Forces"].count == 1


def test_an_explicit_definition_settles_an_ambiguous_acronym():
    text = (
        "Title\n\nThe People's Militia Front met the Popular Mobilization Forces (PMF). "
        "The PMF won."
    )
    names = [
        ("People's Militia Front", "ORG"),
        ("Popular Mobilization Forces", "ORG"),
        ("PMF", "ORG"),
        ("PMF", "ORG"),
    ]
    found = resolve(text, names)
    assert "PMF" not in found
    assert found["Popular Mobilization Forces"].count == 3
    assert found["People's Militia Front"].count == 1


def test_blocked_names_are_dropped_and_do_not_attract_partials():
    text = "Title\n\nWhich Party said Which would win. Angela Merkel spoke."
    names = [("Which Party", "ORG"), ("Which", "ORG"), ("Angela Merkel", "PERSON")]
    found = resolve(text, names, blocked={"which"})
    assert sorted(found) == ["Angela Merkel", "Which Party"]
    assert found["Which Party"].count == 1


def test_a_blocked_name_is_matched_after_normalisation():
    text = "Title\n\nThe Times’ reporter said so."
    found = resolve(text, [("The Times’", "ORG")], blocked={"times"})
    assert found == {}


def test_a_curated_alias_names_the_entity():
    text = "Title\n\nTrump spoke in Ohio."
    found = resolve(text, [("Trump", "PERSON"), ("Ohio", "GPE")], aliases={"trump": 42})
    assert found["Trump"].entity_id == 42
    assert found["Ohio"].entity_id is None


def test_a_curated_alias_wins_over_the_partial_rule():
    text = "Title\n\nMelania Trump toured Paris. Trump praised it."
    names = [("Melania Trump", "PERSON"), ("Paris", "GPE"), ("Trump", "PERSON")]
    found = resolve(text, names, aliases={"trump": 42})
    assert found["Trump"].entity_id == 42
    assert found["Melania Trump"].count == 1


def test_a_partial_of_an_aliased_full_name_follows_the_alias():
    text = "Title\n\nAbu Mohammed al-Jolani spoke. Jolani left."
    names = [("Abu Mohammed al-Jolani", "PERSON"), ("Jolani", "PERSON")]
    found = resolve(text, names, aliases={"abu mohammed al-jolani": 7})
    assert list(found) == ["Abu Mohammed al-Jolani"]
    assert found["Abu Mohammed al-Jolani"].entity_id == 7
    assert found["Abu Mohammed al-Jolani"].count == 2


def test_labels_that_are_not_names_and_junk_are_dropped():
    text = "Title\n\nOn Monday 2,000 people marched in the city."
    found = resolve(text, [("Monday", "DATE"), ("2,000", "CARDINAL"), ("the city", "GPE")])
    assert found == {}


def test_the_display_name_is_the_usual_spelling_not_the_shouted_one():
    text = "Title\n\nHEZBOLLAH said Hezbollah and Hezbollah again."
    names = [("HEZBOLLAH", "ORG"), ("Hezbollah", "ORG"), ("Hezbollah", "ORG")]
    found = resolve(text, names)
    assert list(found) == ["Hezbollah"]
    assert found["Hezbollah"].count == 3


def test_spellings_differing_in_case_and_accents_are_one_entity():
    text = "Title\n\nJosé Martí wrote. Jose Marti wrote more."
    found = resolve(text, [("José Martí", "PERSON"), ("Jose Marti", "PERSON")])
    assert len(found) == 1
    assert next(iter(found.values())).count == 2


def test_a_title_case_headline_run_on_is_dropped():
    text = "Sudani Weighs Future of Popular Mobilization Forces\n\nSudani spoke to the press."
    names = [
        ("Sudani Weighs Future of Popular Mobilization Forces", "ORG"),
        ("Sudani", "PERSON"),
    ]
    found = resolve(text, names)
    assert list(found) == ["Sudani"]


# --- real stories through spaCy --------------------------------------------------------


def test_a_partial_name_in_a_real_story_is_one_entity(ingest_story):
    article = ingest_story(*SUDANI)
    names = about(article)
    assert "Sudani" not in names
    sudani = names["Mohammed al-Sudani"]
    assert sudani.count == 2
    assert sudani.surfaces.splitlines() == ["Mohammed al-Sudani", "Sudani"]
    assert sudani.entity.type == "PERSON"
    assert not Entity.objects.filter(name="Sudani").exists()


def test_an_acronym_in_a_real_story_is_one_entity(ingest_story):
    article = ingest_story(*PMF)
    names = about(article)
    assert "PMF" not in names
    assert names["Popular Mobilization Forces"].count == 3
    assert not Entity.objects.filter(name="PMF").exists()


def test_a_surname_in_a_real_story_joins_the_full_name(ingest_story):
    article = ingest_story(*WALSHE)
    names = about(article)
    assert names["Arran Robert Walshe"].count == 2
    assert "Walshe" not in names


def test_two_people_sharing_a_surname_are_not_merged(ingest_story):
    article = ingest_story(*SMITHS)
    names = about(article)
    assert names["John Smith"].count == 1
    assert names["Mary Smith"].count == 1
    assert names["John Smith"].entity_id != names["Mary Smith"].entity_id
    assert names["Smith"].count == 1


def test_a_partial_name_is_resolved_per_story(ingest_story):
    ingest_story(*SUDANI)
    article = ingest_story(
        "Tribal elders respond",
        "Tribal elders in Basra said Sudani had made promises before.\n\nThey were unconvinced.",
    )
    # No full name in this story: "Sudani" is its own entity here.
    assert "Mohammed al-Sudani" not in about(article)


def test_a_blocked_name_never_appears(ingest_story):
    BlockedName.objects.create(name="Baghdad")
    article = ingest_story(*SUDANI)
    assert "Baghdad" not in about(article)
    assert not Entity.objects.filter(name="Baghdad").exists()
    assert about(article)["Mohammed al-Sudani"].count == 2


def test_an_alias_added_later_rewrites_old_stories(
    ingest_story, django_capture_on_commit_callbacks, keep_apart
):
    donald_story = ingest_story(*DONALD_TRUMP)
    bare_story = ingest_story(*BARE_TRUMP)
    melania_story = ingest_story(*MELANIA)
    donald = entity_named("Donald Trump")
    keep_apart("Trump", donald)  # the corpus would join them itself
    assert about(bare_story)["Trump"].entity_id != donald.id
    assert about(melania_story)["Melania Trump"].count == 2  # "Trump" taken as her surname

    alias = Alias.objects.create(name="Trump", entity=donald)
    with django_capture_on_commit_callbacks(execute=True):
        alias_apply(alias_id=alias.pk)

    assert not Entity.objects.filter(name="Trump").exists()
    assert about(bare_story)["Donald Trump"].entity_id == donald.id
    melania = about(melania_story)
    assert melania["Donald Trump"].surfaces == "Trump"
    assert melania["Melania Trump"].count == 1
    assert about(donald_story)["Donald Trump"].count == 1
    donald.refresh_from_db()
    assert donald.story_count == 3
    # A rule, not a one-off edit: a new story follows it too.
    assert "Donald Trump" in about(ingest_story(*BARE_TRUMP, url="https://example.org/again"))


def test_re_extracting_a_story_leaves_identical_mentions(ingest_story):
    article = ingest_story(*SUDANI)
    before = mention_rows(article)
    entities_before = Entity.objects.count()
    for _ in range(settings.EXTRACTION_MAX_ATTEMPTS + 2):
        report = articles_extract(article_ids=[article.id])
        assert report.extracted == [article.id]
    article.refresh_from_db()
    assert article.status == Article.Status.EXTRACTED
    assert mention_rows(article) == before
    assert Entity.objects.count() == entities_before


def _pending(*stories):
    return [
        article_ingest(url=f"https://example.net/{n}", title=t, text=x, enqueue=False).article.id
        for n, (t, x) in enumerate(stories)
    ]


def test_a_failing_story_is_marked_failed_and_the_batch_goes_on(db):
    ids = _pending(SUDANI, MERKEL, WALSHE)
    real = services.resolve_story

    def fragile(spans, *, text, **rules):
        if "Merkel" in text:
            raise ValueError("tokeniser exploded")
        return real(spans, text=text, **rules)

    with mock.patch.object(services, "resolve_story", fragile):
        report = articles_extract(article_ids=ids)

    assert report.extracted == [ids[0], ids[2]]
    assert report.failed == {ids[1]: "ValueError: tokeniser exploded"}
    stored = Article.objects.in_bulk(ids)
    ok, failed, ok_too = (stored[i] for i in ids)
    assert failed.status == Article.Status.FAILED
    assert failed.error == "ValueError: tokeniser exploded"
    assert not Mention.objects.filter(article=failed).exists()
    assert ok.status == ok_too.status == Article.Status.EXTRACTED
    assert "Mohammed al-Sudani" in about(ok)
    assert "Arran Robert Walshe" in about(ok_too)

    # It can be retried once the cause is fixed.
    articles_extract(article_ids=[ids[1]])
    failed.refresh_from_db()
    assert failed.status == Article.Status.EXTRACTED
    assert failed.error == ""
    assert about(failed)["Angela Merkel"].count == 2


def test_a_story_that_breaks_spacy_fails_alone(db):
    ids = _pending(SUDANI, MERKEL, WALSHE)
    real_pipe = services.nlp.pipe

    def fragile_pipe(texts, **kwargs):
        texts = list(texts)
        if any("Merkel" in t for t in texts):
            raise ValueError("[E088] Text of length 1000001 exceeds maximum")
        return real_pipe(texts, **kwargs)

    with mock.patch.object(services.nlp, "pipe", fragile_pipe):
        report = articles_extract(article_ids=ids)

    assert report.extracted == [ids[0], ids[2]]
    assert report.failed == {ids[1]: "ValueError: [E088] Text of length 1000001 exceeds maximum"}
    stored = Article.objects.in_bulk(ids)
    assert [stored[i].status for i in ids] == ["extracted", "failed", "extracted"]
    assert "Mohammed al-Sudani" in about(stored[ids[0]])


def test_a_story_that_used_up_its_attempts_is_marked_failed(db):
    crashing, fine = _pending(SUDANI, MERKEL)
    # A worker died on it every time: the counter was bumped but never settled.
    Article.objects.filter(id=crashing).update(attempts=settings.EXTRACTION_MAX_ATTEMPTS)

    report = articles_extract(article_ids=[crashing, fine])

    article = Article.objects.get(id=crashing)
    assert article.status == Article.Status.FAILED
    assert f"after {settings.EXTRACTION_MAX_ATTEMPTS} attempts" in article.error
    assert not Mention.objects.filter(article=article).exists()
    assert report.extracted == [fine]
    assert Article.objects.get(id=fine).status == Article.Status.EXTRACTED


def test_a_story_below_its_attempt_budget_is_still_extracted(db):
    (article_id,) = _pending(MERKEL)
    Article.objects.filter(id=article_id).update(attempts=settings.EXTRACTION_MAX_ATTEMPTS - 1)
    articles_extract(article_ids=[article_id])
    assert Article.objects.get(id=article_id).status == Article.Status.EXTRACTED


def test_a_dotted_abbreviation_joins_its_expansion():
    text = "Title\n\nThe United States said the U.S. would act."
    found = resolve(text, [("The United States", "GPE"), ("the U.S.", "GPE")])
    assert list(found) == ["United States"]
    assert found["United States"].surfaces == ["United States", "U.S."]


def test_a_surname_tagged_as_a_place_once_still_joins_the_person():
    # NER called "Sudani" GPE first and PERSON later; the tie went to GPE.
    text = "Sudani in Tehran\n\nMohammed al-Sudani flew in. Sudani met officials."
    found = resolve(
        text,
        [
            ("Sudani", "GPE"),
            ("Tehran", "GPE"),
            ("Mohammed al-Sudani", "PERSON"),
            ("Sudani", "PERSON"),
        ],
    )
    assert sorted(found) == ["Mohammed al-Sudani", "Tehran"]
    assert found["Mohammed al-Sudani"].count == 3


def test_a_name_run_across_the_title_break_is_two_names():
    text = "Talks stall in Corvane\n\nThe Competition and Markets Authority said no."
    start = text.index("Corvane")
    end = text.index(" said")
    spans = [RawSpan(text[start:end], "ORG", start, end)]
    found = {
        e.name: e
        for e in resolve_story(spans, text=text, blocked_keys=frozenset(), alias_targets={})
    }
    assert sorted(found) == ["Competition and Markets Authority", "Corvane"]
    cma = found["Competition and Markets Authority"]
    assert [text[s:e] for s, e in cma.spans] == ["Competition and Markets Authority"]
