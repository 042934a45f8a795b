"""Story text as HTML: snippets with the matched words marked, and the story
page's text with every entity mention linked (SPEC §1, §3).

Every piece of story text is escaped before it is joined with our own <mark>
and <a> tags; this is the one module that marks such HTML safe.
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from articles.models import Article
from articles.textsearch import MARK_CLOSE, MARK_OPEN
from entities.models import Entity

SNIPPET_CHARS = 220


def marked_to_html(snippet: str) -> SafeString:
    html = escape(snippet).replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>")
    return mark_safe(html)  # escaped above; only our own <mark> tags remain


def span_snippet(article: Article, spans: list[list[int]]) -> SafeString:
    """A window of the text around the entity's first mention in the body."""
    body_start = len(article.title) + 2
    body = [(s - body_start, e - body_start) for s, e in spans if s >= body_start]
    text = article.text
    if not body:
        return marked_to_html(truncate(article.lead()))
    first = body[0][0]
    start = max(0, first - SNIPPET_CHARS // 3)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        space = text.rfind(" ", first, end)
        end = space if space > first else end
    pieces, cursor = [], start
    for s, e in body:
        if s < cursor or e > end:
            continue
        pieces += [text[cursor:s], MARK_OPEN, text[s:e], MARK_CLOSE]
        cursor = e
    pieces.append(text[cursor:end])
    snippet = "".join(pieces).replace("\n\n", " ")
    return marked_to_html(("…" if start else "") + snippet + ("…" if end < len(text) else ""))


def truncate(text: str, limit: int = SNIPPET_CHARS) -> str:
    if len(text) <= limit:
        return text
    return text[: text.rfind(" ", 0, limit) if " " in text[:limit] else limit] + "…"


def _linked(text: str, offset: int, marks: list[tuple[int, int, Entity]]) -> str:
    """`text` (which starts at `offset` in the story string) as escaped HTML,
    the marked ranges linked to their entities."""
    pieces, cursor = [], 0
    for start, end, entity in marks:
        start, end = start - offset, end - offset
        pieces.append(escape(text[cursor:start]))
        pieces.append(
            f'<a class="mention mention-{escape(entity.type.lower())}" '
            f'href="{escape(entity.get_absolute_url())}" title="{escape(entity.name)}">'
            f"{escape(text[start:end])}</a>"
        )
        cursor = end
    pieces.append(escape(text[cursor:]))
    return "".join(pieces)


def highlighted_story(article: Article) -> tuple[SafeString, list[SafeString]]:
    """The title and the text paragraphs with every visible mention linked.

    Spans index `title + "\\n\\n" + text`. Spans outside the string, across the
    title/text boundary or across a paragraph break are ignored; of
    overlapping spans the earliest (then the longest) wins. Every piece of
    story text is escaped before it is joined with our own <a> tags.
    """
    title, text = article.title, article.text
    full_length = len(title) + 2 + len(text)
    body_start = len(title) + 2
    candidates = []
    for mention in getattr(article, "about", []):
        for span in mention.spans or []:
            try:
                start, end = int(span[0]), int(span[1])
            except (TypeError, ValueError, IndexError):
                continue
            if not 0 <= start < end <= full_length:
                continue
            if start < body_start and end > len(title):
                continue  # across the title/text boundary
            if start >= body_start and "\n\n" in text[start - body_start : end - body_start]:
                continue
            candidates.append((start, -end, mention.entity_id, mention.entity))
    candidates.sort(key=lambda c: (c[0], c[1], c[2]))
    marks, cursor = [], 0
    for start, neg_end, _, entity in candidates:
        if start < cursor:
            continue  # overlaps the previous mark
        marks.append((start, -neg_end, entity))
        cursor = -neg_end
    title_marks = [m for m in marks if m[1] <= len(title)]
    body_marks = [m for m in marks if m[0] >= body_start]
    title_html = mark_safe(_linked(title, 0, title_marks))  # escaped in _linked
    body_html = _linked(text, body_start, body_marks)
    return title_html, [mark_safe(p) for p in body_html.split("\n\n")]  # escaped in _linked
