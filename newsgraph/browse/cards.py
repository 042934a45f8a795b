"""A result page's story cards (templates/articles/_story.html) rendered
once per corpus version and kept in the page cache: rendering 20 cards is
most of a warm page's template time.

A card is drawn from its story alone (and what the page asked of it: the
about-list's order, the entity it highlights, the type filter, the snippet),
so those go in its key; a story edited, extracted or curated bumps the
corpus version (pagecache.CORPUS) and every card is drawn again. The
template still does the drawing, with autoescaping: only its output is kept.
"""

from __future__ import annotations

import hashlib

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from newsgraph.infra import pagecache

CARD_TEMPLATE = "articles/_story.html"
CARD_CACHE_SECONDS = 3600


def draw_cards(stories: list, *, about_order: str, entity_type: str = "") -> None:
    """Give each hydrated story its card as `card_html`."""
    if not stories:
        return
    keyed = {_key(story): story for story in stories}

    def draw(missing: list[str]) -> dict[str, str]:
        return {key: render_to_string(CARD_TEMPLATE, {"story": keyed[key]}) for key in missing}

    cards = pagecache.cached_many(
        pagecache.CORPUS,
        f"card:{about_order}:{entity_type}",
        list(keyed),
        draw,
        timeout=CARD_CACHE_SECONDS,
    )
    for key, story in keyed.items():
        story.card_html = SafeString(cards[key])


def _key(story) -> str:
    snippet = hashlib.blake2b(str(getattr(story, "snippet", "")).encode(), digest_size=8)
    return f"{story.pk}:{story.highlight_entity_id or ''}:{snippet.hexdigest()}"
