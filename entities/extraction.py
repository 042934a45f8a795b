"""Extraction: NER over stored stories, resolved names, and each story's
mentions replaced atomically (SPEC §5). Runs in the `entities.extract_articles`
task that ingest asks for by name (articles/handover.py).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from articles.models import Article
from entities import nlp
from entities.corpus import CorpusRules, assign_entities, mark_unsettled
from entities.models import BlockedName, Entity, Mention
from entities.recall import corpus_names, with_known_names
from entities.rescore_requests import schedule_rescore
from entities.resolution import RawSpan, StoryEntity, resolve_story
from entities.salience import mention_stats
from entities.truecase import truecase
from newsgraph.infra.queue import enqueue

logger = logging.getLogger(__name__)


@dataclass
class ExtractReport:
    extracted: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    mentions: int = 0


@dataclass(frozen=True)
class Rules:
    blocked_keys: frozenset[str]
    corpus: CorpusRules

    @classmethod
    def load(cls) -> Rules:
        return cls(
            blocked_keys=frozenset(BlockedName.objects.values_list("key", flat=True)),
            corpus=CorpusRules.load(),
        )


class StepClock:
    """Seconds this process spent in the pipeline's corpus-level steps
    ("recall": known names NER missed; "corpus": rules, places, partial
    names, new entities; "reresolve": stories resolved again from their
    spans), for bench.identity_cost to read without patching the pipeline."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()

    @contextmanager
    def timing(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[step] += time.perf_counter() - started


CLOCK = StepClock()

RERESOLVE_BATCH = 200
RERESOLVE_TASK = "entities.reresolve_articles"  # entities/tasks.py


def request_reresolution(*, article_ids: Sequence[int]) -> None:
    """Queue re-resolution of stored stories after the transaction commits."""
    ids = list(article_ids)
    for start in range(0, len(ids), RERESOLVE_BATCH):
        enqueue(RERESOLVE_TASK, ids[start : start + RERESOLVE_BATCH])


def story_text(article: Article) -> str:
    """What NER reads; mention offsets point into this string."""
    return f"{article.title}\n\n{article.text}"


def articles_extract(*, article_ids: Sequence[int], rescore: bool = True) -> ExtractReport:
    """Run NER over the stories and replace their mentions atomically.

    Idempotent: running it twice leaves the same mentions. A story whose
    unfinished attempts exceed the budget (a worker keeps dying on it) is
    marked failed instead of being tried again.
    """
    report = ExtractReport()
    Article.objects.filter(id__in=article_ids).update(attempts=F("attempts") + 1)
    articles = list(Article.objects.filter(id__in=article_ids).order_by("id"))
    runnable = []
    for article in articles:
        if article.attempts > settings.EXTRACTION_MAX_ATTEMPTS:
            report.failed[article.id] = f"gave up after {article.attempts - 1} attempts"
        else:
            runnable.append(article)

    by_id = {a.id: a for a in runnable}
    read: dict[int, tuple[str, list[RawSpan]]] = {}
    # A story in a language no configured model reads (SPACY_MODELS) is kept
    # and searchable, with no entities rather than junk ones (issue #12).
    for article in runnable:
        if not nlp.reads(article.language):
            read[article.id] = (story_text(article), [])
    # What leaves the zone is plain Python strings and offsets, never a Doc.
    to_parse = [a for a in runnable if a.id not in read]
    with nlp.memory_zone(a.language for a in to_parse):
        for article, doc in _parsed(to_parse, report):
            # Each model's labels as the project's types (entities/labels.py).
            types = nlp.types_for(article.language)
            spans = [
                RawSpan(e.text, types[e.label_], e.start_char, e.end_char)
                for e in doc.ents
                if e.label_ in types
            ]
            read[article.id] = (doc.text, spans)
    parsed = [i for i in read if nlp.reads(by_id[i].language)]
    with CLOCK.timing("recall"):
        corpus = corpus_names(read[i][0] for i in parsed)
    for i in parsed:
        text, spans = read[i]
        read[i] = (text, with_known_names(text, spans, corpus, by_id[i].language))
    resolved = _resolve_and_store({i: by_id[i] for i in read}, read, report=report, final=True)
    if rescore and resolved:
        schedule_rescore(full=False)
    return report


def articles_reresolve(*, article_ids: Sequence[int]) -> int:
    """Resolve extracted stories again from their stored spans and labels,
    without NER: after a new rule or a new full name (corpus.py), and for
    editors' rules. Returns how many stories were resolved."""
    with CLOCK.timing("reresolve"):
        return _reresolve(article_ids)


def _reresolve(article_ids: Sequence[int]) -> int:
    articles = {
        a.id: a for a in Article.objects.filter(id__in=article_ids, status=Article.Status.EXTRACTED)
    }
    if not articles:
        return 0
    stored: dict[int, list[tuple[str, list]]] = {i: [] for i in articles}
    for article_id, label, entity_type, spans in Mention.objects.filter(
        article_id__in=list(articles)
    ).values_list("article_id", "label", "entity__type", "spans"):
        stored[article_id].append((label or entity_type, spans))
    read = {}
    for article_id, rows in stored.items():
        text = truecase(story_text(articles[article_id]))
        spans = [
            RawSpan(text[start:end], label, start, end)
            for label, pairs in rows
            for start, end in pairs
            if 0 <= start < end <= len(text)
        ]
        read[article_id] = (text, spans)
    report = ExtractReport()
    _resolve_and_store(articles, read, report=report, final=False)
    return len(report.extracted)


def _resolve_and_store(
    articles: dict[int, Article],
    read: dict[int, tuple[str, list[RawSpan]]],
    *,
    report: ExtractReport,
    final: bool,
) -> dict[int, list[StoryEntity]]:
    """In-story then corpus resolution of what was read, and each story's
    mentions replaced atomically; `final` also marks the stories extracted
    (or failed). Stories the batch taught something are re-resolved after."""
    rules = Rules.load()
    resolved: dict[int, list[StoryEntity]] = {}
    for article_id, (text, spans) in read.items():
        try:
            resolved[article_id] = resolve_story(
                spans,
                text=text,
                blocked_keys=rules.blocked_keys,
                alias_targets=rules.corpus.alias_targets,
                language=articles[article_id].language,
            )
        except Exception as exc:  # one bad story must not sink the batch
            logger.exception("extraction failed for article %s", article_id)
            report.failed[article_id] = f"{type(exc).__name__}: {exc}"

    with CLOCK.timing("corpus"):
        follow_up = assign_entities(resolved, rules=rules.corpus)
    entity_ids = {e.entity_id for ents in resolved.values() for e in ents}
    blocked_ids = set(
        Entity.objects.filter(id__in=entity_ids, blocked=True).values_list("id", flat=True)
    )
    mentions = []
    for article_id, story_entities in resolved.items():
        article = articles[article_id]
        seen: dict[int, Mention] = {}
        labels: dict[int, Counter] = {}
        for story_entity in story_entities:
            entity_id = story_entity.entity_id
            if entity_id in blocked_ids:
                continue
            labels.setdefault(entity_id, Counter())[story_entity.label] += story_entity.count
            if entity_id in seen:  # two story groups resolved to one entity
                previous = seen[entity_id]
                spans = sorted(previous.spans + [list(s) for s in story_entity.spans])
                surfaces = previous.surfaces.split("\n") + story_entity.surfaces
            else:
                spans = [list(s) for s in story_entity.spans]
                surfaces = story_entity.surfaces
            mention = Mention(
                article_id=article_id,
                entity_id=entity_id,
                spans=spans,
                surfaces="\n".join(dict.fromkeys(surfaces)),
                published_at=article.published_at,
                label=labels[entity_id].most_common(1)[0][0],
                **mention_stats(spans, title=article.title, text=article.text),
            )
            seen[entity_id] = mention
        mentions.extend(seen.values())

    now = timezone.now()
    with transaction.atomic():
        Mention.objects.filter(article_id__in=list(resolved)).delete()
        Mention.objects.bulk_create(mentions, batch_size=500)
        if final:
            # The attempt counter catches stories that keep killing workers; a
            # run that finishes gives the budget back, so duplicate deliveries
            # (sweeps of a backlog, acks_late redelivery) never fail a good story.
            Article.objects.filter(id__in=list(resolved)).update(
                status=Article.Status.EXTRACTED, error="", extracted_at=now, attempts=0
            )
            for article_id, reason in report.failed.items():
                Article.objects.filter(id=article_id).update(
                    status=Article.Status.FAILED, error=reason[:2000]
                )
        mark_unsettled(entity_ids)
        again = sorted(follow_up.article_ids - set(resolved))
        if again:
            request_reresolution(article_ids=again)
    report.extracted = sorted(resolved)
    report.mentions = len(mentions)
    return resolved


def _parsed(articles: list[Article], report: ExtractReport) -> Iterator[tuple[Article, object]]:
    """(article, spaCy doc) for each story, batched by `nlp.pipe`. If spaCy
    fails on a batch, its stories are parsed one by one, so only the story
    that breaks it is marked failed, with spaCy's error as the reason."""
    try:
        docs = list(
            nlp.pipe(
                [truecase(story_text(a)) for a in articles],
                batch_size=settings.EXTRACTION_BATCH_SIZE,
                languages=[a.language for a in articles],
            )
        )
    except Exception as exc:  # spaCy's errors have no common base class
        if len(articles) > 1:
            logger.warning("spaCy failed on a batch of %d; parsing one by one", len(articles))
            for article in articles:
                yield from _parsed([article], report)
            return
        logger.exception("spaCy failed on article %s", articles[0].id)
        report.failed[articles[0].id] = f"{type(exc).__name__}: {exc}"
        return
    yield from zip(articles, docs, strict=True)
