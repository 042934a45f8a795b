"""Star scoring (SPEC §6, issue #23): stars follow what the story does with
the name (its own score and its share of the story's top score), monotone in
prominence and rarity, deterministic, debounced and set-based."""

import math
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles.models import Article, Source
from entities import tasks
from entities.models import Entity, Mention
from entities.normalize import name_key
from entities.rescore_requests import schedule_rescore
from entities.salience import STAR_FLOORS, salience, specificity
from entities.salience import stars as stars_of
from entities.scoring import RESCORE_STATE_KEY, rescore_all, rescore_due
from tests.factories import ArticleFactory, EntityFactory, MentionFactory

HYPOTHESIS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

prominence = st.fixed_dictionaries(
    {
        "count": st.integers(min_value=1, max_value=8),
        "in_title": st.booleans(),
        "in_lead": st.booleans(),
        "spread": st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.8, 1.0]),
        "first": st.sampled_from([0.0, 0.05, 0.3, 0.7, 1.0]),
    }
)
# Other (story, entity) pairs around the ones compared, in stories of their
# own and (`beside`) in the compared pairs' story, whose top they may raise.
background = st.lists(
    st.tuples(st.integers(0, 7), st.integers(0, 5), prominence),
    max_size=25,
    unique_by=lambda t: (t[0], t[1]),
)


def more_prominent(base: dict, extra: dict) -> dict:
    """`base` with each ingredient at least as strong."""
    return {
        "count": base["count"] + extra["count"] - 1,
        "in_title": base["in_title"] or extra["in_title"],
        "in_lead": base["in_lead"] or extra["in_lead"],
        "spread": max(base["spread"], extra["spread"]),
        "first": min(base["first"], extra["first"]),
    }


class Corpus:
    """Stories, entities and mentions written in bulk (scoring reads only these rows)."""

    def __init__(self):
        self.source, _ = Source.objects.get_or_create(name="Corpus")
        self.stories: list[Article] = []
        self.entities: dict[str, Entity] = {}
        self.mentions: list[Mention] = []

    def story(self) -> Article:
        n = len(self.stories)
        article = Article(
            url=f"https://example.com/{n}",
            canonical_url=f"https://example.com/{n}",
            content_hash=f"{n:064x}",
            title=f"Story {n}",
            text="Text.",
            source=self.source,
            status=Article.Status.EXTRACTED,
            published_at=timezone.now(),
        )
        self.stories.append(article)
        return article

    def entity(self, name: str) -> Entity:
        if name not in self.entities:
            slug = f"e-{len(self.entities)}"
            self.entities[name] = Entity(name=name, key=name_key(name), type="ORG", slug=slug)
        return self.entities[name]

    def mention(self, story: Article, entity: Entity, **prom) -> None:
        stored = {k: v for k, v in prom.items() if k != "first"}  # no field: only in salience
        self.mentions.append(
            Mention(article=story, entity=entity, salience=salience(**prom), **stored)
        )

    def save(self) -> None:
        Article.objects.bulk_create(self.stories)
        Entity.objects.bulk_create(self.entities.values())
        for m in self.mentions:
            m.article_id, m.entity_id = m.article.id, m.entity.id
            # As Mention.save() and extraction do: the story's date, copied.
            m.published_at = m.article.published_at
        Mention.objects.bulk_create(self.mentions)

    def add_background(self, pairs) -> None:
        stories = [self.story() for _ in range(8)]
        for story, entity, prom in pairs:
            self.mention(stories[story], self.entity(f"Background {entity}"), **prom)


def stars(story: Article, entity: Entity) -> int:
    return Mention.objects.get(article_id=story.id, entity_id=entity.id).stars


@pytest.fixture
def rolled_back(db):
    """Run each hypothesis example in a savepoint that is rolled back."""

    def run(example):
        savepoint = transaction.savepoint()
        try:
            example()
        finally:
            transaction.savepoint_rollback(savepoint)

    return run


@HYPOTHESIS
@given(base=prominence, extra=prominence, other=background, spread_out=st.integers(0, 4))
def test_more_prominent_never_gets_fewer_stars(rolled_back, base, extra, other, spread_out):
    def example():
        corpus = Corpus()
        x = corpus.entity("Kurdistan Region")
        quiet, loud = corpus.story(), corpus.story()
        corpus.mention(quiet, x, **base)
        corpus.mention(loud, x, **more_prominent(base, extra))
        for _ in range(spread_out):  # vary the entity's own rarity too
            corpus.mention(corpus.story(), x, **base)
        corpus.add_background(other)
        corpus.save()
        rescore_all()
        assert stars(loud, x) >= stars(quiet, x)

    rolled_back(example)


@HYPOTHESIS
@given(
    prom=prominence,
    rare_extra=st.integers(0, 4),
    more=st.integers(1, 5),
    other=background,
)
def test_rarer_never_gets_fewer_stars(rolled_back, prom, rare_extra, more, other):
    def example():
        corpus = Corpus()
        rare, common = corpus.entity("Erbil"), corpus.entity("United States")
        story = corpus.story()
        corpus.mention(story, rare, **prom)
        corpus.mention(story, common, **prom)
        for _ in range(rare_extra):
            corpus.mention(corpus.story(), rare, **prom)
        for _ in range(rare_extra + more):
            corpus.mention(corpus.story(), common, **prom)
        corpus.add_background(other)
        corpus.save()
        rescore_all()
        assert stars(story, rare) >= stars(story, common)

    rolled_back(example)


@HYPOTHESIS
@given(other=background)
def test_rescoring_is_deterministic(rolled_back, other):
    def example():
        corpus = Corpus()
        corpus.add_background(other)
        corpus.save()
        rescore_all()

        def scored():
            mentions = Mention.objects.select_related("entity").order_by("id")
            return [(m.id, m.score, m.stars) for m in mentions]

        first = scored()
        rescore_all()
        second = scored()
        assert first == second

    rolled_back(example)


def test_equal_pairs_get_equal_stars(db):
    corpus = Corpus()
    twins = [corpus.entity("Basra"), corpus.entity("Mosul")]
    prom = {"count": 2, "in_title": False, "in_lead": True, "spread": 0.5}
    stories = [corpus.story() for _ in range(6)]
    for story in stories:
        for twin in twins:
            corpus.mention(story, twin, **prom)
    corpus.add_background(
        [
            (i, 0, {"count": i + 1, "in_title": i % 2 == 0, "in_lead": False, "spread": 0.0})
            for i in range(8)
        ]
    )
    corpus.save()
    rescore_all()
    assert len({stars(s, t) for s in stories for t in twins}) == 1


def test_rarity_only_discounts_entities_in_many_stories(db):
    """Readers' summaries name rare and fairly common entities alike: among the
    entities in at most one story in ten, rarity changes no stars; an entity
    in half the stories is discounted."""
    corpus = Corpus()
    rare, fairly_common, everywhere = (
        corpus.entity("Erbil"),
        corpus.entity("Kurdistan Region"),
        corpus.entity("Iraq"),
    )
    prom = {"count": 2, "in_title": False, "in_lead": True, "spread": 0.5}
    stories = [corpus.story() for _ in range(40)]
    for n, story in enumerate(stories):
        if n == 0:
            corpus.mention(story, rare, **prom)
        if n < 4:
            corpus.mention(story, fairly_common, **prom)
        if n % 2 == 0:
            corpus.mention(story, everywhere, **prom)
        corpus.mention(
            story,
            corpus.entity(f"Other {n}"),
            count=1 + n % 3,
            in_title=False,
            in_lead=n % 4 == 0,
            spread=0.0,
        )
    corpus.save()

    rescore_all()

    for entity in (rare, fairly_common, everywhere):
        entity.refresh_from_db()
    assert rare.specificity == fairly_common.specificity == 1.0
    assert 0 < everywhere.specificity < 1.0
    assert (
        stars(stories[0], rare) == stars(stories[0], fairly_common) > stars(stories[0], everywhere)
    )


def test_a_passing_mention_of_a_common_name_gets_one_star_and_the_story_subject_four(db):
    """The seed's rule: a name everyone mentions, mentioned once in passing,
    gets ★; a story's central, specific entity gets ★★★★."""
    corpus = Corpus()
    everyone = corpus.entity("United States")
    central = {"count": 6, "in_title": True, "in_lead": True, "spread": 0.8}
    passing = {"count": 1, "in_title": False, "in_lead": False, "spread": 0.0}
    stories = [corpus.story() for _ in range(12)]
    for n, story in enumerate(stories):
        corpus.mention(story, corpus.entity(f"Subject {n}"), **central)
        corpus.mention(story, everyone, **passing)
        for k in range(5):  # the story's other names, each mentioned once or twice
            other = {"count": 1 + k % 2, "in_title": False, "in_lead": k == 0, "spread": k / 10}
            corpus.mention(story, corpus.entity(f"Name {n}-{k}"), **other)
    corpus.save()

    rescore_all()

    for n, story in enumerate(stories):
        assert stars(story, everyone) == 1
        assert stars(story, corpus.entities[f"Subject {n}"]) == 4


def filler(corpus: Corpus, n: int) -> None:
    """`n` more stories, each about a name of its own: a corpus in which the
    names compared are rare, so specificity leaves their scores alone."""
    for k in range(n):
        prom = {"count": 2, "in_title": True, "in_lead": True, "spread": 0.5}
        corpus.mention(corpus.story(), corpus.entity(f"Filler {k}"), **prom)


PASSING = {"count": 1, "in_title": False, "in_lead": False, "spread": 0.0}
# In the title, the first paragraph and all through the story: what readers keep.
SUBJECT = {"count": 5, "in_title": True, "in_lead": True, "spread": 0.8, "first": 0.0}


def test_a_story_naming_thirty_things_in_passing_gives_them_one_star(db):
    """Readers name none of a story's passing names: they get ★ however many
    there are (corpus-wide shares once lifted most of them to ★★ or more),
    and the story's subject ★★★★."""
    corpus = Corpus()
    story = corpus.story()
    corpus.mention(story, corpus.entity("Mohammed al-Sudani"), **SUBJECT)
    for k in range(30):  # each named once, somewhere after the first paragraph
        corpus.mention(story, corpus.entity(f"Passing {k}"), **PASSING, first=0.2 + k / 40)
    filler(corpus, 10)
    corpus.save()

    rescore_all()

    assert stars(story, corpus.entities["Mohammed al-Sudani"]) == 4
    passing = Mention.objects.filter(article=story, entity__name__startswith="Passing")
    assert set(passing.values_list("stars", flat=True)) == {1}


def test_a_story_of_passing_names_only_has_no_four_star_name(db):
    """The story's top is no subject when every name in it is mentioned once
    in passing: the floors of their own keep them at ★."""
    corpus = Corpus()
    story = corpus.story()
    for k in range(6):
        corpus.mention(story, corpus.entity(f"Passing {k}"), **PASSING, first=0.3 + k / 10)
    filler(corpus, 10)
    corpus.save()

    rescore_all()

    assert set(Mention.objects.filter(article=story).values_list("stars", flat=True)) == {1}


def test_a_side_name_stays_below_the_story_subject(db):
    """Named in the first paragraph and once more, a name reaches ★★★ on its
    own; beside a subject scoring twice as much it is a side name: ★★."""
    corpus = Corpus()
    alone, beside = corpus.story(), corpus.story()
    side = {"count": 2, "in_title": False, "in_lead": True, "spread": 0.2}
    loud = {"count": 12, "in_title": True, "in_lead": True, "spread": 1.0, "first": 0.0}
    corpus.mention(alone, corpus.entity("Basra"), **side)
    corpus.mention(beside, corpus.entity("Mosul"), **side)
    corpus.mention(beside, corpus.entity("Kurdistan Region"), **loud)
    filler(corpus, 20)
    corpus.save()

    rescore_all()

    assert stars(alone, corpus.entities["Basra"]) == 3
    assert stars(beside, corpus.entities["Mosul"]) == 2
    assert stars(beside, corpus.entities["Kurdistan Region"]) == 4


@pytest.mark.parametrize(
    ("stories_with_it", "expected"),
    [(1, 4), (4, 4), (8, 4), (12, 3), (24, 2), (40, 1)],
)
def test_the_story_subject_gets_four_stars_unless_it_is_in_most_stories(
    db, stories_with_it, expected
):
    """The name in the title, the first paragraph and all through the story
    is ★★★★ — unless it is in a large share of the 40 stories, when
    specificity takes it down (United States in world news)."""
    corpus = Corpus()
    subject = corpus.entity("Kurdistan Region")
    stories = [corpus.story() for _ in range(40)]
    for n, story in enumerate(stories):
        if n < stories_with_it:
            corpus.mention(story, subject, **SUBJECT)
        other = {"count": 1 + n % 2, "in_title": False, "in_lead": n % 3 == 0, "spread": 0.1}
        corpus.mention(story, corpus.entity(f"Other {n}"), **other)
    corpus.save()

    rescore_all()

    assert set(subject.mentions.values_list("stars", flat=True)) == {expected}


def test_stars_are_those_of_the_formula(db):
    """The SQL gives each pair the stars of entities.salience.stars for its
    score and its story's top score over the visible names."""
    corpus = Corpus()
    stories = [corpus.story() for _ in range(12)]
    for n, story in enumerate(stories):
        for k in range(1 + n % 5):
            prom = {
                "count": 1 + (n * 3 + k * 5) % 7,
                "in_title": (n + k) % 4 == 0,
                "in_lead": (n * k) % 3 == 0,
                "spread": ((n + 2 * k) % 5) / 5,
                "first": ((3 * n + k) % 7) / 7,
            }
            corpus.mention(story, corpus.entity(f"Name {(n * 7 + k) % 15}"), **prom)
    corpus.save()

    rescore_all()

    mentions = list(Mention.objects.select_related("entity"))
    tops: dict[int, float] = {}
    for m in mentions:
        tops[m.article_id] = max(tops.get(m.article_id, 0.0), m.score)
    assert {m.stars for m in mentions} >= {1, 2, 3}
    for m in mentions:
        assert m.stars == stars_of(score=m.score, top=tops[m.article_id]), m


@HYPOTHESIS
@given(base=prominence, extra=prominence, other=background)
def test_more_prominent_in_the_same_story_never_gets_fewer_stars(rolled_back, base, extra, other):
    """Beside each other in one story (its top set by either, or by a third
    name), the more prominent of two equally rare names never has fewer stars."""

    def example():
        corpus = Corpus()
        story = corpus.story()
        quiet, loud = corpus.entity("Basra"), corpus.entity("Mosul")
        corpus.mention(story, quiet, **base)
        corpus.mention(story, loud, **more_prominent(base, extra))
        if other:  # a third name in the story, maybe louder than both
            corpus.mention(story, corpus.entity("Baghdad"), **other[0][2])
        corpus.add_background(other)
        corpus.save()
        rescore_all()
        assert stars(story, loud) >= stars(story, quiet)

    rolled_back(example)


def test_the_star_floors_are_reference_mentions():
    """★★ needs more than one passing mention, ★★★ the first paragraph and a
    second mention, ★★★★ the title too (the README's table)."""
    once_anywhere = salience(count=1, in_title=False, in_lead=False, spread=0.0, first=0.0)
    assert once_anywhere < STAR_FLOORS[0]
    assert stars_of(score=once_anywhere, top=once_anywhere) == 1
    twice_in_lead = salience(count=2, in_title=False, in_lead=True, spread=0.0)
    assert stars_of(score=twice_in_lead, top=twice_in_lead) == 3
    title_and_lead = salience(count=2, in_title=True, in_lead=True, spread=0.0)
    assert stars_of(score=title_and_lead, top=title_and_lead) == 4
    assert stars_of(score=title_and_lead, top=2 * title_and_lead) == 3  # half the top
    assert stars_of(score=title_and_lead, top=4 * title_and_lead) == 1  # a quarter


def test_rescoring_counts_stories_and_dates_per_entity(db):
    corpus = Corpus()
    iran, iraq, unseen = corpus.entity("Iran"), corpus.entity("Iraq"), corpus.entity("Oman")
    prom = {"count": 1, "in_title": False, "in_lead": False, "spread": 0.0}
    stories = [corpus.story() for _ in range(3)]
    for day, story in enumerate(stories, start=1):
        story.published_at = datetime(2025, 2, day, tzinfo=UTC)
        corpus.mention(story, iran, **prom)
    corpus.mention(stories[0], iraq, **prom)
    corpus.save()

    report = rescore_all()

    iran.refresh_from_db()
    iraq.refresh_from_db()
    unseen.refresh_from_db()
    assert (iran.story_count, iraq.story_count, unseen.story_count) == (3, 1, 0)
    assert iran.first_seen.day == 1 and iran.last_seen.day == 3
    assert iraq.specificity > iran.specificity > 0 == unseen.specificity
    assert math.isclose(iran.specificity, specificity(stories=3, stories_with_entity=3))
    assert (report.stories, report.entities, report.pairs) == (3, 2, 4)


def test_a_blocked_entity_does_not_hold_down_the_stars_of_its_story(db):
    """The share of the story's top is over the names a reader sees: a
    blocked name ("Reuters", everywhere and loud) leaves the top to the
    story's subject."""
    corpus = Corpus()
    story = corpus.story()
    loud = {"count": 12, "in_title": True, "in_lead": True, "spread": 1.0, "first": 0.0}
    subject = {"count": 3, "in_title": True, "in_lead": True, "spread": 0.5, "first": 0.0}
    corpus.mention(story, corpus.entity("Reuters"), **loud)
    corpus.mention(story, corpus.entity("Erbil"), **subject)
    filler(corpus, 20)
    corpus.save()

    rescore_all()
    assert stars(story, corpus.entities["Erbil"]) < 4  # well under the loud name

    Entity.objects.filter(name="Reuters").update(blocked=True)
    report = rescore_all()

    assert report.pairs == 1 + 20  # Erbil's and the filler stories'
    assert stars(story, corpus.entities["Erbil"]) == 4


# --- when rescoring runs ----------------------------------------------------------------


@override_settings(CELERY_TASK_ALWAYS_EAGER=False, RESCORE_DEBOUNCE_SECONDS=5)
def test_a_burst_of_rescore_requests_is_debounced(
    db, fresh_cache, django_capture_on_commit_callbacks
):
    with (
        mock.patch.object(tasks.rescore, "apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True),
    ):
        for _ in range(1000):
            schedule_rescore()

    assert 1 <= apply_async.call_count <= 3
    assert apply_async.call_args.kwargs["countdown"] == 5


@override_settings(CELERY_TASK_ALWAYS_EAGER=False, RESCORE_DEBOUNCE_SECONDS=5)
def test_a_request_after_a_rescoring_started_schedules_another(
    db, fresh_cache, django_capture_on_commit_callbacks
):
    with mock.patch.object(tasks.rescore, "apply_async") as apply_async:
        with django_capture_on_commit_callbacks(execute=True):  # one batch commits
            schedule_rescore()
            schedule_rescore()
        tasks.rescore()  # the worker starts the pass queued above
        with django_capture_on_commit_callbacks(execute=True):  # the next batch commits
            schedule_rescore()

    assert apply_async.call_count == 2


def test_rescoring_runs_after_extraction_of_a_story(ingest_story):
    from tests.entities.conftest import SUDANI, about

    article = ingest_story(*SUDANI)
    mention = about(article)["Mohammed al-Sudani"]
    assert mention.entity.story_count == 1
    assert mention.score > 0
    assert mention.score == pytest.approx(mention.salience * mention.entity.specificity)


def _mentions(n: int) -> None:
    corpus = Corpus()
    stories = [corpus.story() for _ in range(max(1, n // 5))]
    for i in range(n):
        prom = {"count": 1 + i % 4, "in_title": i % 3 == 0, "in_lead": i % 2 == 0, "spread": 0.0}
        corpus.mention(stories[i % len(stories)], corpus.entity(f"Entity {i % 37}"), **prom)
    # Several mentions of one entity in one story are one pair: keep the first.
    unique = {(id(m.article), id(m.entity)): m for m in reversed(corpus.mentions)}
    corpus.mentions = list(unique.values())
    corpus.save()


def test_rescoring_is_set_based(db):
    _mentions(10)
    with CaptureQueriesContext(connection) as small:
        rescore_all()
    Mention.objects.all().delete()
    Entity.objects.all().delete()
    Article.objects.all().delete()
    _mentions(200)
    assert Mention.objects.count() > 100
    with CaptureQueriesContext(connection) as large:
        rescore_all()
    assert len(large) == len(small)


def test_factories_build_a_scoreable_mention(db):
    mention = MentionFactory(
        article=ArticleFactory(), entity=EntityFactory(name="Ankara"), salience=2.0
    )
    rescore_all()
    mention.refresh_from_db()
    assert mention.score == pytest.approx(2.0 * specificity(stories=1, stories_with_entity=1))


@override_settings(CELERY_TASK_ALWAYS_EAGER=False, RESCORE_DEBOUNCE_SECONDS=5)
def test_a_rolled_back_request_does_not_hold_back_the_next_one(
    db, fresh_cache, django_capture_on_commit_callbacks
):
    """A batch whose transaction fails queues nothing, and must not keep the
    next batch's rescoring from being queued for the debounce window."""
    with (
        mock.patch.object(tasks.rescore, "apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True),
    ):
        with pytest.raises(RuntimeError), transaction.atomic():
            schedule_rescore()
            raise RuntimeError("the batch failed")
        schedule_rescore()

    assert apply_async.call_count == 1


# --- incremental passes between full ones ------------------------------------------------


def _corpus_with_new_stories(new: int):
    """40 scored stories, then `new` stories extracted after that pass."""
    corpus = Corpus()
    common, rare = corpus.entity("Iran"), corpus.entity("Kurdistan Region")
    for i in range(40):
        story = corpus.story()
        corpus.mention(story, common, count=1 + i % 3, in_title=False, in_lead=i % 2 == 0, spread=0)
        if i % 8 == 0:
            corpus.mention(story, rare, count=2, in_title=True, in_lead=True, spread=0.5)
    corpus.save()
    rescore_all()
    before = dict(Mention.objects.values_list("id", "stars"))
    for n in range(new):
        story = Article.objects.create(
            url=f"https://example.com/new/{n}",
            canonical_url=f"https://example.com/new/{n}",
            content_hash=f"new-{n}",
            title=f"New story {n}",
            text="Text.",
            status=Article.Status.EXTRACTED,
            extracted_at=timezone.now(),
        )
        for entity, prom in [
            (rare, {"count": 3, "in_title": True, "in_lead": True, "spread": 1.0}),
            (common, {"count": 1, "in_title": False, "in_lead": False, "spread": 0}),
        ]:
            Mention.objects.create(article=story, entity=entity, salience=salience(**prom), **prom)
    return corpus, before


@override_settings(RESCORE_FULL_GROWTH=0.5)
def test_new_stories_are_starred_without_rewriting_the_older_pairs(db, fresh_cache):
    corpus, before = _corpus_with_new_stories(new=2)
    state = fresh_cache.get(RESCORE_STATE_KEY)

    report = rescore_due()

    rare = corpus.entities["Kurdistan Region"]
    rare.refresh_from_db()
    assert rare.story_count == 5 + 2  # counts and specificity include the new stories
    assert rare.specificity == pytest.approx(specificity(stories=42, stories_with_entity=7))
    new = Mention.objects.exclude(id__in=before)
    assert not report.full
    assert report.pairs == new.count() == 4
    for mention in new.select_related("entity"):
        assert mention.score == pytest.approx(mention.salience * mention.entity.specificity)
    # A prominent rare entity, the subject of its story: ★★★★.
    assert set(new.filter(entity=rare).values_list("stars", flat=True)) == {4}
    assert state["stories"] == 40  # the last full pass's
    old = dict(Mention.objects.filter(id__in=before).values_list("id", "stars"))
    assert old == before  # older pairs keep their stars until the next full pass


@override_settings(RESCORE_FULL_GROWTH=0.5)
def test_a_full_pass_runs_when_the_corpus_has_grown_enough(db, fresh_cache):
    _corpus_with_new_stories(new=25)  # 40 → 65 stories: more than 50 % growth
    report = rescore_due()
    assert report.full
    assert report.pairs == Mention.objects.count()
    assert fresh_cache.get(RESCORE_STATE_KEY)["stories"] == 65


@override_settings(RESCORE_FULL_GROWTH=0.5)
def test_a_full_pass_runs_after_curation(db, fresh_cache, django_capture_on_commit_callbacks):
    _corpus_with_new_stories(new=2)
    with (
        mock.patch.object(tasks.rescore, "apply_async"),  # the worker runs it below
        django_capture_on_commit_callbacks(execute=True),
    ):
        schedule_rescore()  # curation: full by default
    report = rescore_due()
    assert report.pairs == Mention.objects.count()
    assert rescore_due().pairs == 0  # the request was used up; nothing new since


def test_a_pass_writes_only_the_stars_that_move(db, fresh_cache):
    corpus, _ = _corpus_with_new_stories(new=0)
    stars = dict(Mention.objects.values_list("id", "stars"))
    again = rescore_all()
    assert again.stars_changed == 0  # scores are read, not stored: nothing to write
    assert dict(Mention.objects.values_list("id", "stars")) == stars
    rare = corpus.entities["Kurdistan Region"]
    Mention.objects.filter(entity=rare).update(stars=1)
    assert rescore_all().stars_changed == rare.mentions.count() == 5


@override_settings(RESCORE_FULL_GROWTH=0.5)
def test_a_batch_adds_its_stories_to_a_common_entitys_count(db, fresh_cache, monkeypatch):
    """Above EXACT_COUNT_BELOW the pass adds the batch to the stored count
    (its cost follows the batch); the figures are those of a full recount."""
    from entities import scoring

    corpus, _ = _corpus_with_new_stories(new=0)
    iran = corpus.entities["Iran"]
    newest = Article.objects.order_by("-published_at").first().published_at
    for n in range(2):
        story = Article.objects.create(
            url=f"https://example.com/later/{n}",
            canonical_url=f"https://example.com/later/{n}",
            content_hash=f"later-{n}",
            title=f"Later story {n}",
            text="Text.",
            status=Article.Status.EXTRACTED,
            extracted_at=timezone.now(),
            published_at=newest + timedelta(days=1 + n),
        )
        prom = {"count": 1, "in_title": False, "in_lead": False, "spread": 0}
        Mention.objects.create(article=story, entity=iran, salience=salience(**prom), **prom)
    monkeypatch.setattr(scoring, "EXACT_COUNT_BELOW", 1)

    report = rescore_due()

    assert not report.full
    iran.refresh_from_db()
    assert iran.story_count == 40 + 2
    assert iran.last_seen == newest + timedelta(days=2)
    assert iran.specificity == pytest.approx(specificity(stories=42, stories_with_entity=42))
