"""Story page (SPEC §3): every mention highlighted and linked, everything escaped."""

from __future__ import annotations

import re

import pytest

from articles.models import Article
from newsgraph.browse.highlight import highlighted_story
from newsgraph.browse.pages import stories_with_about_list
from tests.factories import ArticleFactory, EntityFactory, MentionFactory

LINK = re.compile(r'<a class="mention mention-([a-z_]+)" href="([^"]+)" title="[^"]*">([^<]*)</a>')


def spans_of(full: str, word: str) -> list[list[int]]:
    return [[m.start(), m.start() + len(word)] for m in re.finditer(re.escape(word), full)]


def with_about(article: Article) -> Article:
    return stories_with_about_list().get(pk=article.pk)


@pytest.mark.django_db
def test_every_mention_in_title_and_text_is_linked():
    title = "Iran talks with Iraq"
    text = "Iran and Iraq met.\n\nLater, Iraq said Iran agreed."
    full = f"{title}\n\n{text}"
    article = ArticleFactory(title=title, text=text)
    iran = EntityFactory(name="Iran", type="GPE")
    iraq = EntityFactory(name="Iraq", type="GPE")
    MentionFactory(article=article, entity=iran, spans=spans_of(full, "Iran"))
    MentionFactory(article=article, entity=iraq, spans=spans_of(full, "Iraq"))

    title_html, paragraphs = highlighted_story(with_about(article))
    assert [m[2] for m in LINK.findall(title_html)] == ["Iran", "Iraq"]
    assert len(paragraphs) == 2
    links = [LINK.findall(p) for p in paragraphs]
    assert [(href, word) for _, href, word in links[0]] == [
        (iran.get_absolute_url(), "Iran"),
        (iraq.get_absolute_url(), "Iraq"),
    ]
    assert [word for _, _, word in links[1]] == ["Iraq", "Iran"]
    # Nothing lost: the text without tags is the story text.
    assert re.sub(r"<[^>]+>", "", title_html) == title
    assert [re.sub(r"<[^>]+>", "", p) for p in paragraphs] == text.split("\n\n")


@pytest.mark.django_db
def test_highlighting_escapes_story_text_and_names():
    title = "Bold & Co <b>rises</b>"
    text = 'A <script>alert("x")</script> about Bold & Co.'
    full = f"{title}\n\n{text}"
    article = ArticleFactory(title=title, text=text)
    evil = EntityFactory(name='Bold & Co"><img src=x>', type="ORG")
    MentionFactory(article=article, entity=evil, spans=spans_of(full, "Bold & Co"))
    title_html, paragraphs = highlighted_story(with_about(article))
    html = title_html + "".join(paragraphs)
    assert "<script>" not in html and "<b>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert html.count('class="mention mention-org"') == 2
    assert 'title="Bold &amp; Co&quot;&gt;&lt;img src=x&gt;"' in html


@pytest.mark.django_db
def test_overlapping_broken_and_blocked_spans_are_handled():
    title = "Title"
    text = "New York City is big.\n\nSecond paragraph."
    full = f"{title}\n\n{text}"
    article = ArticleFactory(title=title, text=text)
    nyc = EntityFactory(name="New York City", type="GPE")
    york = EntityFactory(name="York", type="GPE")
    same = EntityFactory(name="New York", type="GPE")
    junk = EntityFactory(name="Big", type="ORG", blocked=True)
    start = full.index("New York City")
    MentionFactory(article=article, entity=nyc, spans=[[start, start + 13], [999, 1005]])
    MentionFactory(
        article=article,
        entity=york,
        spans=[[start + 4, start + 8], "junk", [5, 2], [3, 9]],  # overlap, junk, bad, across
    )
    MentionFactory(article=article, entity=same, spans=[[start, start + 8]])  # same start
    MentionFactory(article=article, entity=junk, spans=spans_of(full, "big"))
    para_break = full.index("\n\nSecond")
    MentionFactory(
        article=article,
        entity=EntityFactory(name="Across"),
        spans=[[para_break - 3, para_break + 4]],
    )
    title_html, paragraphs = highlighted_story(with_about(article))
    assert title_html == "Title"
    assert [m[2] for m in LINK.findall(paragraphs[0])] == ["New York City"]  # the longest wins
    assert "big" in paragraphs[0] and "mention-org" not in paragraphs[0]  # blocked: not linked
    assert paragraphs[1] == "Second paragraph."


@pytest.mark.django_db
def test_story_page_links_the_mentions_of_an_ingested_story(client, ingest_story):
    article = ingest_story(
        "Iraq's prime minister visits Tehran",
        "Mohammed al-Sudani, the prime minister of Iraq, arrived in Tehran on Monday.\n\n"
        "In Tehran, al-Sudani met officials from Iran.",
    )
    article = with_about(article)
    names = {m.entity.name for m in article.about}
    assert {"Tehran", "Iraq"} <= names
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    body = html[html.index('class="story-text"') :]
    linked = {word for _, _, word in LINK.findall(body)}
    assert {"Tehran", "Iraq"} <= linked
    tehran = next(m.entity for m in article.about if m.entity.name == "Tehran")
    assert body.count(f'href="{tehran.get_absolute_url()}"') == 2
    assert "Read the original" in html and article.url in html
