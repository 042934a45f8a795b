"""The Atom feed of an entity's newest stories validates as Atom (RFC 4287)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import feedparser
import pytest
from defusedxml import ElementTree

from newsgraph.browse.atom import FEED_ITEMS
from tests.factories import ArticleFactory, EntityFactory, MentionFactory, SourceFactory

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
START = datetime(2025, 2, 1, 9, tzinfo=UTC)


def is_absolute_iri(value: str) -> bool:
    parts = urlsplit(value)
    return bool(parts.scheme) and (bool(parts.netloc) or parts.scheme in {"tag", "urn"})


def assert_valid_atom(xml: bytes) -> ElementTree.Element:
    """The RFC 4287 rules a validator checks on a feed like ours."""
    feed = ElementTree.fromstring(xml)
    assert feed.tag == f"{ATOM}feed"

    def one(parent, name):
        found = parent.findall(f"{ATOM}{name}")
        assert len(found) == 1, f"{parent.tag} needs exactly one atom:{name}, has {len(found)}"
        return found[0]

    assert is_absolute_iri(one(feed, "id").text)
    assert one(feed, "title").text
    assert RFC3339.match(one(feed, "updated").text)
    entries = feed.findall(f"{ATOM}entry")
    feed_author = feed.find(f"{ATOM}author")
    assert feed_author is not None and feed_author.find(f"{ATOM}name").text
    links = feed.findall(f"{ATOM}link")
    assert any(link.get("rel") == "self" for link in links)
    alternates = [link for link in links if link.get("rel", "alternate") == "alternate"]
    assert len(alternates) == 1 and is_absolute_iri(alternates[0].get("href"))
    ids = []
    for entry in entries:
        ids.append(one(entry, "id").text)
        assert is_absolute_iri(ids[-1])
        assert one(entry, "title").text
        assert RFC3339.match(one(entry, "updated").text)
        published = entry.find(f"{ATOM}published")
        assert published is None or RFC3339.match(published.text)
        link = [x for x in entry.findall(f"{ATOM}link") if x.get("rel", "alternate") == "alternate"]
        assert len(link) == 1 and is_absolute_iri(link[0].get("href"))
    assert len(ids) == len(set(ids)), "entry ids must be unique"
    return feed


@pytest.mark.django_db
def test_entity_feed_is_valid_atom_with_newest_stories_first(client):
    iran = EntityFactory(name="Iran & <Friends>", type="GPE")
    source = SourceFactory(name="The Atlantic")
    for i in range(3):
        article = ArticleFactory(
            title=f"Story {i} about Iran & co",
            text=f"Lead paragraph {i} with <b>markup</b>.\n\nMore.",
            published_at=START + timedelta(days=i),
            source=source,
        )
        MentionFactory(article=article, entity=iran)
    ArticleFactory(title="Unrelated")
    response = client.get(f"/entities/{iran.slug}/feed/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")

    feed = assert_valid_atom(response.content)
    titles = [e.find(f"{ATOM}title").text for e in feed.findall(f"{ATOM}entry")]
    assert titles == [
        "Story 2 about Iran & co",
        "Story 1 about Iran & co",
        "Story 0 about Iran & co",
    ]
    assert feed.find(f"{ATOM}title").text == "Iran & <Friends> · newsgraph"
    first = feed.find(f"{ATOM}entry")
    assert first.find(f"{ATOM}summary").text == "Lead paragraph 2 with <b>markup</b>."
    assert first.find(f"{ATOM}author/{ATOM}name").text == "The Atlantic"
    link = first.find(f"{ATOM}link").get("href")
    assert urlsplit(link).path.startswith("/articles/")

    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert len(parsed.entries) == 3


@pytest.mark.django_db
def test_entity_feed_is_bounded_and_empty_feeds_are_valid(client):
    busy = EntityFactory(name="Busy")
    for i in range(FEED_ITEMS + 5):
        MentionFactory(entity=busy, article=ArticleFactory(published_at=START + timedelta(i)))
    feed = assert_valid_atom(client.get(f"/entities/{busy.slug}/feed/").content)
    assert len(feed.findall(f"{ATOM}entry")) == FEED_ITEMS

    quiet = EntityFactory(name="Quiet")
    assert_valid_atom(client.get(f"/entities/{quiet.slug}/feed/").content)


@pytest.mark.django_db
def test_blocked_or_missing_entities_have_no_feed(client):
    blocked = EntityFactory(name="Junk", blocked=True)
    assert client.get(f"/entities/{blocked.slug}/feed/").status_code == 410  # gone (SPEC §11)
    assert client.get("/entities/nobody/feed/").status_code == 404
