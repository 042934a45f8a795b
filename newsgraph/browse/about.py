"""About-lists: "This story seems to be about:" for a page of stories, each
entity linked with its stars (SPEC §1), built from plain column values once
per corpus version and kept whole in the page cache (pagecache.CORPUS).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape as html_escape

from django.conf import settings
from django.core.paginator import Page
from django.db.models import Case, JSONField, Value, When
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from articles.models import Article
from articles.selectors import attach_copy_groups
from entities import nlp
from entities.models import Entity, Mention, StarsMixin
from newsgraph.browse.highlight import marked_to_html, span_snippet, truncate
from newsgraph.infra import pagecache

_SLUG = "slug-placeholder"


@dataclass(slots=True, eq=False)
class AboutEntry(StarsMixin):
    """One entity of a story's about-list, from plain column values: a result
    page shows ~600 of them, and as Mention and Entity model instances they
    cost ~10 ms of each page (docs/BENCHMARKS.md)."""

    entity_id: int
    name: str
    slug: str
    type: str
    story_count: int
    stars: int
    score: float
    spans: list | None = None  # only for the entity a page is about
    link_html: str = ""

    @classmethod
    def of(cls, mention: Mention) -> AboutEntry:
        entity = mention.entity
        return cls(
            entity_id=mention.entity_id,
            name=entity.name,
            slug=entity.slug,
            type=entity.type,
            story_count=entity.story_count,
            stars=mention.stars,
            score=mention.score,
            spans=mention.spans,
        )

    def make_link_html(self, url: str) -> str:
        """The entry's link and stars as HTML, each piece of data escaped. One
        ready-made value per entry for the template (~600 per page), in place
        of format_html (16 ms a page)."""
        label = self.stars_label
        return (
            f'<a href="{html_escape(url)}">{html_escape(self.name)}</a> <span class="stars'
            f' stars-{self.stars:d}" role="img" aria-label="{label}" title="{label}">'
            f"{self.stars_display}</span>\n"
        )


# An about-list is kept until the corpus changes (pagecache.CORPUS: a story
# added, edited or extracted, curation, rescoring, settling), or for an hour.
ABOUT_CACHE_SECONDS = 3600

# One entry as kept in caches["pages"]: plain values, cheap to unpickle.
_Kept = tuple[int, str, str, str, int, int, float, str]


def about_entries(
    article_ids: list[int], *, spans_of: Entity | None, entity_type: str = ""
) -> dict[int, list]:
    """Each story's visible entities (of `entity_type` only, when given: the
    search's type filter); with the spans of `spans_of` only (the entity a
    page is about, for its snippets). The lists are built once per corpus
    version and read whole from the page cache (a page's 20 stories in one
    round trip); the spans, which only the entity's page needs, in one query."""
    head, tail = _entity_url()
    spans: dict[int, list] = {}
    kept = pagecache.cached_many(
        pagecache.CORPUS,
        f"about:{head}{tail}",
        article_ids,
        lambda missing: _about_lists(missing, head=head, tail=tail, spans_of=spans_of, spans=spans),
        timeout=ABOUT_CACHE_SECONDS,
    )
    if spans_of is not None:
        # Read with the lists that were computed; for those read from the cache:
        wanted = [
            i for i in article_ids if i not in spans and any(e[0] == spans_of.id for e in kept[i])
        ]
        if wanted:
            spans.update(
                Mention.objects.filter(article_id__in=wanted, entity_id=spans_of.id).values_list(
                    "article_id", "spans"
                )
            )
    entries: dict[int, list] = {}
    for article_id in article_ids:
        story = []
        for entity_id, name, slug, kind, story_count, stars, score, link in kept[article_id]:
            if entity_type and kind != entity_type:
                continue
            entry = AboutEntry(entity_id, name, slug, kind, story_count, stars, score)
            entry.link_html = SafeString(link)
            if spans_of is not None and entity_id == spans_of.id:
                entry.spans = spans.get(article_id)
            story.append(entry)
        entries[article_id] = story
    return entries


def _about_lists(
    article_ids: list[int], *, head: str, tail: str, spans_of: Entity | None, spans: dict
) -> dict[int, tuple[_Kept, ...]]:
    """The about-lists of these stories from the database, and into `spans`
    the spans of `spans_of` in them: two index look-ups, mentions then their
    entities (as one join PostgreSQL misjudges the ~600 rows and hashes the
    whole entity table: 8 ms at 20,000 entities)."""
    entity_spans = (
        Case(When(entity_id=spans_of.id, then="spans"), output_field=JSONField())
        if spans_of is not None
        else Value(None, output_field=JSONField())
    )
    rows = []
    for *row, found_spans in (
        Mention.objects.filter(article_id__in=article_ids)
        .annotate(entity_spans=entity_spans)
        .values_list("article_id", "entity_id", "stars", "salience", "entity_spans")
    ):
        rows.append(row)
        if spans_of is not None and row[1] == spans_of.id:
            spans[row[0]] = found_spans
    entities = {
        row[0]: row
        for row in Entity.objects.visible()
        .filter(id__in={row[1] for row in rows})
        .values_list("id", "name", "slug", "type", "story_count", "specificity")
    }
    lists: dict[int, list[_Kept]] = {i: [] for i in article_ids}
    for article_id, entity_id, stars, salience in rows:
        entity = entities.get(entity_id)
        if entity is not None:
            _, name, slug, kind, story_count, specificity = entity
            entry = AboutEntry(entity_id, name, slug, kind, story_count, stars, 0.0)
            lists[article_id].append(
                (
                    *(entity_id, name, slug, kind, story_count, stars),
                    salience * specificity,
                    entry.make_link_html(f"{head}{slug}{tail}"),
                )
            )
    return {i: tuple(entries) for i, entries in lists.items()}


def _entity_url() -> tuple[str, str]:
    """An entity page's address around its slug, from one reverse()."""
    head, _, tail = reverse("entities:detail", args=[_SLUG]).rpartition(_SLUG)
    return head, tail


def hydrate(page: Page, *, entity: Entity | None, about_order: str, entity_type: str = "") -> None:
    """Replace the page's (id, snippet) rows by stories with their about-lists
    (of `entity_type`'s entities only, when given)."""
    rows = list(page.object_list)
    ids = [r[0] for r in rows]
    articles = (
        Article.objects.filter(id__in=ids)
        .with_has_copies()
        .select_related("source")
        .defer("page_metadata")  # kept for re-dating, never shown
        .in_bulk()
    )
    entries = about_entries(ids, spans_of=entity, entity_type=entity_type) if articles else {}
    stories = []
    for article_id, snippet in rows:
        article = articles.get(article_id)
        if article is None:
            continue
        article.about = entries[article_id]
        if snippet:
            article.snippet = marked_to_html(snippet)
        elif entity is not None:
            spans = next((m.spans for m in article.about if m.entity_id == entity.id), None)
            article.snippet = span_snippet(article, spans or [])
        else:
            article.snippet = marked_to_html(truncate(article.lead()))
        arrange_about_list(article, about_order=about_order, highlight=entity)
        stories.append(article)
    attach_copy_groups(stories)
    page.object_list = stories


def no_entities_note(article: Article) -> str:
    """Why a story has no about-list when no configured model reads its
    language (SPACY_MODELS); "" otherwise."""
    if nlp.reads(article.language):
        return ""
    return f"No entities: language {article.language} ({article.language_name})"


def arrange_about_list(
    article: Article, *, about_order: str, highlight: Entity | None = None
) -> None:
    """About-list shown once per story: all of it, or the top ones by stars and
    the rest behind "show all". `article.about` holds AboutEntry items."""
    entries = article.about
    if any(not m.link_html for m in entries):
        head, tail = _entity_url()
        for m in entries:
            m.link_html = m.link_html or mark_safe(m.make_link_html(f"{head}{m.slug}{tail}"))

    def stars_first(m):
        return (-m.stars, -m.score, m.name.casefold())

    def by_name(m):
        return (m.name.casefold(), m.entity_id)

    limit = settings.ABOUT_LIST_LIMIT
    by_stars = sorted(entries, key=stars_first)
    shown, more = (by_stars[:limit], by_stars[limit:]) if len(entries) > limit else (entries, [])
    key = stars_first if about_order == "stars" else by_name
    article.about_shown = sorted(shown, key=key)
    article.about_more = sorted(more, key=key)
    article.highlight_entity_id = highlight_id = highlight.id if highlight else None
    article.no_entities_note = no_entities_note(article)
    # The list items as one value per list: a template loop over ~600 entries
    # costs more than the rest of the page (docs/BENCHMARKS.md).
    article.about_shown_html = mark_safe(
        "".join(
            f'<li class="current">{m.link_html}</li>'
            if m.entity_id == highlight_id
            else f"<li>{m.link_html}</li>"
            for m in article.about_shown
        )
    )
    article.about_more_html = mark_safe(
        "".join(f"<li>{m.link_html}</li>" for m in article.about_more)
    )
