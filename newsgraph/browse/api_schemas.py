"""The JSON API's response shapes (newsgraph/browse/api.py), which its OpenAPI
schema at /api/openapi.json documents."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from ninja import Field, Schema


class Message(Schema):
    detail: str


class Invalid(Schema):
    """A request whose parameters fail validation (HTTP 422)."""

    detail: str | list[dict[str, Any]]


class EntityRef(Schema):
    name: str
    slug: str
    type: str
    type_label: str
    stories: int = Field(description="Stories with a visible mention of the entity.")
    url: str = Field(description="The entity's page.")
    api_url: str


class AboutItem(Schema):
    entity: EntityRef
    stars: int = Field(ge=1, le=4)
    stars_label: str
    score: float


class StoryDating(Schema):
    """When a story was published, where that date comes from, its language."""

    published_at: datetime
    date_source: Literal["given", "page", "feed", "ingested", "future"] = Field(
        description="Where `published_at` comes from: given with the story, read from the page, "
        "the feed entry's date, or (ingested, future) none usable was found and it is when the "
        "story was ingested."
    )
    language: str = Field(
        description='ISO 639-1 code of the story\'s language; "" when it could not be told.'
    )
    entities_note: str = Field(
        description="Why the story has no entities when its language has no entity model, e.g. "
        '"No entities: language ru (Russian)"; "" otherwise.'
    )


class CopyOut(Schema):
    """Another version of the same story (a syndicated copy or an update)."""

    id: int
    title: str
    url: str
    page_url: str
    source: str | None
    published_at: datetime
    representative: bool = Field(description="This version stands for the group.")


class CopyGroupFields(Schema):
    copy_of: str | None = Field(
        description="The URL of the story this one is a copy of (its group's representative); "
        "null when it is not a copy."
    )
    copies: list[CopyOut] = Field(
        description="The other versions of this story, earliest first; empty when it has none."
    )


class StoryOut(StoryDating, CopyGroupFields):
    id: int
    title: str
    url: str = Field(
        description='The original story; a saved page that named no web address has a "file:" '
        "identity derived from its content instead (no original to link to)."
    )
    page_url: str = Field(description="The story's page here, its mentions linked.")
    api_url: str
    breadcrumb: str
    source: str | None
    snippet_html: str = Field(description="Escaped text; the only tags are <mark> around matches.")
    about: list[AboutItem]


class TrendingEntity(EntityRef):
    week: int = Field(description="Stories this week.")


class SearchOut(Schema):
    query: str
    mode: Literal["latest", "entity", "text"]
    page: int
    num_pages: int
    page_size: int
    total: int
    total_is_capped: bool = Field(
        description="More stories match than are ranked or counted (words: the 1,000 newest"
        " matches; the latest stories: 10,000): `total` is a lower bound."
    )
    entity: EntityRef | None
    aliases: list[str]
    did_you_mean: list[EntityRef]
    trending: list[TrendingEntity]
    error: str
    results: list[StoryOut]


class WeekOut(Schema):
    week: date
    stories: int


class RelatedOut(Schema):
    entity: EntityRef
    together: int = Field(description="Stories mentioning both.")
    lift: float = Field(description="P(related | this entity) / P(related).")


class EntityOut(EntityRef):
    aliases: list[str]
    first_seen: datetime | None
    last_seen: datetime | None
    feed_url: str
    weekly: list[WeekOut]
    related: list[RelatedOut]
    order: Literal["stars", "date"]
    page: int
    num_pages: int
    page_size: int
    total: int
    results: list[StoryOut]


class MentionOut(AboutItem):
    count: int
    spans: list[list[int]] = Field(
        description='[start, end) character offsets into title + "\\n\\n" + text.'
    )


class StoryDetailOut(StoryDating, CopyGroupFields):
    id: int
    title: str
    text: str
    url: str
    page_url: str
    breadcrumb: str
    source: str | None
    status: str
    mentions: list[MentionOut]


class SuggestOut(Schema):
    results: list[EntityRef]


class Moved(Schema):
    """An entity no longer at this address: renamed or merged (HTTP 301, the
    entity's API address in `redirect`), or blocked by editors (HTTP 410)."""

    detail: str
    redirect: str | None
    merged_into: EntityRef | None
