"""The search view as SPEC §1 describes it, read from the HTML a user gets."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from tests.browse.pages import one, parse, select, stories, story_about, text, texts, titles
from tests.factories import AliasFactory, ArticleFactory, EntityFactory, SourceFactory

pytestmark = pytest.mark.django_db

ATLANTIC_URL = (
    "https://www.theatlantic.com/international/archive/2025/02/iraq-leaving-irans-axis/681825/"
)
ATLANTIC_TEXT = (
    "Iraqi President Abdul Latif Rashid met the Iranian envoy in Baghdad on Monday, "
    "as Iran pressed Iraq to stay in its alliance.\n\n"
    "Prime Minister Mohammed al-Sudani said Iraq would not be a battlefield for Iran. "
    "Sudani said the Popular Mobilization Forces would answer to the state.\n\n"
    "In Tehran, officials said Iran would keep its ties with the oil pipeline projects."
)


def when(day: int, month: int = 2) -> datetime:
    return datetime(2025, month, day, 12, 0, tzinfo=UTC)


def inline_scripts(page) -> list:
    return [s for s in select(page, "script") if not s.get("src")]


def query_of(href: str) -> dict:
    return {k: v[-1] for k, v in parse_qs(urlsplit(href).query).items()}


@pytest.fixture
def atlantic(ingest_story):
    return ingest_story(
        "Even Iraq Wants to Leave Iran's Axis",
        ATLANTIC_TEXT,
        url=ATLANTIC_URL,
        source="The Atlantic",
        published_at="2025-02-01T10:00:00+00:00",
    )


# --- the search box ---------------------------------------------------------------


class TestSearchBox:
    @pytest.mark.parametrize("path", ["/", "/search/"])
    def test_keeps_the_query_and_has_autofocus(self, client, path):
        page = parse(client.get(path, {"q": "Iran"}))
        box = one(page, "form[role=search] input[name=q]")
        assert box.get("value") == "Iran"
        assert "autofocus" in box.attrib
        form = one(page, "form[role=search]")
        assert form.get("method") == "get"

    def test_empty_query_gives_an_empty_box(self, client):
        box = one(parse(client.get("/")), "form[role=search] input[name=q]")
        assert box.get("value") == ""
        assert "autofocus" in box.attrib

    def test_quotes_and_angle_brackets_in_the_query_are_kept_verbatim(self, client):
        q = 'say "hello" <b>&'
        page = parse(client.get("/", {"q": q}))
        assert one(page, "form[role=search] input[name=q]").get("value") == q


# --- each story -----------------------------------------------------------------------


class TestStoryAsAResult:
    def test_title_links_to_the_original_url(self, client, atlantic):
        story = one(parse(client.get("/", {"q": "Iran"})), "section.results article.story")
        link = one(story, ".story-title a")
        assert text(link) == "Even Iraq Wants to Leave Iran's Axis"
        assert link.get("href") == ATLANTIC_URL

    def test_breadcrumb(self, client, atlantic):
        story = one(parse(client.get("/", {"q": "Iran"})), "section.results article.story")
        assert text(one(story, ".breadcrumb")) == (
            "www.theatlantic.com › international › archive › 2025 › 02"
            " › iraq-leaving-irans-axis › 681825"
        )

    def test_source_date_and_snippet_with_highlighted_entity(self, client, atlantic):
        story = one(parse(client.get("/", {"q": "Iran"})), "section.results article.story")
        meta = one(story, ".story-meta")
        assert text(meta).startswith("The Atlantic · 1 Feb 2025 · ")
        marks = texts(one(meta, ".snippet"), "mark")
        assert marks and set(marks) == {"Iran"}

    def test_snippet_highlights_the_words_of_a_text_query(self, client, atlantic):
        story = one(parse(client.get("/", {"q": "pipeline"})), "section.results article.story")
        snippet = one(story, ".story-meta .snippet")
        assert [m.lower() for m in texts(snippet, "mark")] == ["pipeline"]
        assert "pipeline projects" in text(snippet)

    def test_about_list_once_per_story_sorted_by_name_linked_to_entities(self, client, atlantic):
        ArticleFactory(title="Another story, no entities", published_at=when(2))
        story_about({EntityFactory(name="Zeta Corp"): 1, EntityFactory(name="alpha"): 3}, title="x")
        page = parse(client.get("/"))
        results = stories(page)
        assert len(results) == 3
        with_entities = [s for s in results if select(s, ".about-list")]
        assert len(with_entities) == 2
        for story in with_entities:
            assert text(story).count("This story seems to be about:") == 1
            names = texts(story, ".about-list li > a")
            assert names == sorted(names, key=str.casefold)
        assert page.text_content().count("This story seems to be about:") == 2
        atlantic_story = next(s for s in results if "Iran's Axis" in text(s))
        for mention in atlantic.mentions.select_related("entity"):
            link = [
                a
                for a in select(atlantic_story, ".about-list li > a")
                if text(a) == mention.entity.name
            ]
            assert len(link) == 1
            assert link[0].get("href") == mention.entity.get_absolute_url()
        # Real extraction: in-story resolution folds "Sudani" into the full name.
        assert "Mohammed al-Sudani" in texts(atlantic_story, ".about-list li > a")
        assert "Sudani" not in texts(atlantic_story, ".about-list li > a")

    def test_stars_are_characters_with_an_accessible_label(self, client):
        ranks = {"Ali Nima": 4, "Abdul Latif Rashid": 3, "Iran": 1, "Baghdad": 2}
        story_about({EntityFactory(name=name): n for name, n in ranks.items()})
        story = one(parse(client.get("/")), "section.results article.story")
        for item in select(story, ".about-list li"):
            name = text(one(item, "a"))
            stars = one(item, ".stars")
            assert text(stars) == "★" * ranks[name]
            assert stars.get("aria-label") == f"{ranks[name]} of 4 stars"
            assert stars.get("role") == "img"
        assert texts(story, ".about-list li > a") == [
            "Abdul Latif Rashid",
            "Ali Nima",
            "Baghdad",
            "Iran",
        ]

    def test_toggle_sorts_the_about_list_by_stars(self, client):
        ranks = {"Ali Nima": 4, "Abdul Latif Rashid": 3, "Iran": 1, "Baghdad": 2}
        story_about({EntityFactory(name=name): n for name, n in ranks.items()})
        page = parse(client.get("/", {"q": "Ali Nima"}))
        toggle = [a for a in select(page, ".about-toggle a") if "stars" in text(a)]
        assert len(toggle) == 1
        params = query_of(toggle[0].get("href"))
        assert params == {"q": "Ali Nima", "about": "stars"}

        by_stars = parse(client.get("/", params))
        story = one(by_stars, "section.results article.story")
        assert texts(story, ".about-list li > a") == [
            "Ali Nima",
            "Abdul Latif Rashid",
            "Baghdad",
            "Iran",
        ]
        back = [a for a in select(by_stars, ".about-toggle a") if "A–Z" in text(a)]
        assert query_of(back[0].get("href")) == {"q": "Ali Nima", "about": "name"}

    def test_more_than_30_entities_show_the_top_30_and_a_show_all_disclosure(self, client):
        entities = {}
        for i in range(36):
            stars = 4 if i < 10 else 3 if i < 20 else 2 if i < 30 else 1
            entities[EntityFactory(name=f"Name {i:02d}")] = (stars, 100.0 - i)
        story_about(entities)
        story = one(parse(client.get("/")), "section.results article.story")
        shown = texts(story, ".about > .about-list li > a")
        assert len(shown) == 30
        assert shown == sorted(shown, key=str.casefold)
        assert set(shown) == {f"Name {i:02d}" for i in range(30)}
        details = one(story, "details")
        assert "show all" in text(one(details, "summary")).lower()
        hidden = texts(details, ".about-list li > a")
        assert set(hidden) == {f"Name {i:02d}" for i in range(30, 36)}
        assert text(story).count("This story seems to be about:") == 1

    def test_30_entities_or_fewer_have_no_disclosure(self, client):
        story_about({EntityFactory(): 2 for _ in range(30)})
        story = one(parse(client.get("/")), "section.results article.story")
        assert len(select(story, ".about-list li")) == 30
        assert not select(story, "details")

    def test_story_without_entities_has_no_about_list(self, client):
        ArticleFactory(title="Nothing named here")
        story = one(parse(client.get("/")), "section.results article.story")
        assert "This story seems to be about:" not in text(story)

    def test_blocked_entities_are_not_listed(self, client):
        story_about(
            {EntityFactory(name="Junk Name", blocked=True): 4, EntityFactory(name="Iran"): 2}
        )
        story = one(parse(client.get("/")), "section.results article.story")
        assert texts(story, ".about-list li > a") == ["Iran"]


# --- the entity card ---------------------------------------------------------------


class TestEntityCard:
    @pytest.fixture
    def iran(self):
        iran = EntityFactory(name="Iran", type="GPE", story_count=2)
        AliasFactory(name="Islamic Republic of Iran", entity=iran)
        AliasFactory(name="Persia", entity=iran)
        story_about({iran: 3})
        story_about({iran: 2})
        return iran

    @pytest.mark.parametrize(
        "q", ["Iran", "iran", "IRAN", " Iran ", "Iran’s", "persia", "islamic republic of IRAN"]
    )
    def test_card_for_a_name_or_an_alias_in_any_case(self, client, iran, q):
        card = one(parse(client.get("/", {"q": q})), ".entity-card")
        heading = one(card, "h2 a")
        assert text(heading) == "Iran"
        assert heading.get("href") == "/entities/iran/"
        facts = text(one(card, ".entity-facts"))
        assert "Country, city or state" in facts
        assert "2 stories" in facts
        assert text(one(card, ".aliases")) == "Also known as: Islamic Republic of Iran, Persia"
        assert "/entities/iran/" in [a.get("href") for a in select(card, "a.entity-link")]

    def test_one_story(self, client):
        wto = EntityFactory(name="World Trade Organization", type="ORG", story_count=1)
        story_about({wto: 2})
        card = one(parse(client.get("/", {"q": "world trade organization"})), ".entity-card")
        assert "Organisation" in text(card)
        assert "1 story" in text(one(card, ".entity-facts"))
        assert not select(card, ".aliases")

    def test_no_card_for_words_that_are_not_an_entity(self, client, iran):
        page = parse(client.get("/", {"q": "oil"}))
        assert not select(page, ".entity-card")

    def test_no_card_for_a_blocked_entity(self, client):
        junk = EntityFactory(name="Monday", type="ORG", blocked=True, story_count=1)
        story_about({junk: 1})
        assert not select(parse(client.get("/", {"q": "Monday"})), ".entity-card")

    def test_the_entity_with_more_stories_wins_a_shared_name(self, client):
        EntityFactory(name="Jordan", type="PERSON", story_count=1)
        country = EntityFactory(name="Jordan", type="GPE", story_count=7)
        card = one(parse(client.get("/", {"q": "jordan"})), ".entity-card")
        assert one(card, "h2 a").get("href") == country.get_absolute_url()

    def test_card_from_a_real_extraction(self, client, atlantic):
        card = one(parse(client.get("/", {"q": "mohammed al-sudani"})), ".entity-card")
        assert text(one(card, "h2")) == "Mohammed al-Sudani"
        assert "Person" in text(card)
        assert "1 story" in text(card)


class TestDidYouMean:
    @pytest.fixture
    def tehran(self):
        tehran = EntityFactory(name="Tehran", type="GPE", story_count=3)
        story_about({tehran: 2}, title="Talks in the capital")
        return tehran

    def test_close_miss_gets_did_you_mean(self, client, tehran):
        page = parse(client.get("/", {"q": "Tehram"}))
        box = one(page, ".did-you-mean")
        assert text(box).startswith("Did you mean")
        link = one(box, "a")
        assert text(link) == "Tehran"
        assert query_of(link.get("href")) == {"q": "Tehran"}
        assert not select(page, ".entity-card")

    def test_did_you_mean_also_above_text_results(self, client, tehran):
        ArticleFactory(title="Tehram is a typo that appears in a story")
        page = parse(client.get("/", {"q": "Tehram"}))
        assert len(stories(page)) == 1
        assert "Tehran" in texts(page, ".did-you-mean a")

    def test_no_did_you_mean_when_the_query_is_the_entity(self, client, tehran):
        page = parse(client.get("/", {"q": "tehran"}))
        assert not select(page, ".did-you-mean")


# --- ranking ----------------------------------------------------------------------------


class TestRanking:
    def test_entity_query_puts_stories_where_it_has_more_stars_first(self, client):
        iran = EntityFactory(name="Iran", type="GPE", story_count=4)
        other = EntityFactory(name="Iraq", type="GPE")
        story_about({iran: 1, other: 4}, title="Newest, Iran in passing", published_at=when(20))
        story_about({iran: 4}, title="Oldest, all about Iran", published_at=when(1))
        story_about({iran: 2}, title="Middle, some Iran", published_at=when(10))
        story_about({iran: 3}, title="Older, much Iran", published_at=when(5))
        page = parse(client.get("/", {"q": "Iran"}))
        assert titles(page) == [
            "Oldest, all about Iran",
            "Older, much Iran",
            "Middle, some Iran",
            "Newest, Iran in passing",
        ]

    def test_same_stars_higher_score_first_then_newer(self, client):
        iran = EntityFactory(name="Iran", type="GPE", story_count=3)
        story_about({iran: (3, 5.0)}, title="Lower score, newest", published_at=when(20))
        story_about({iran: (3, 9.0)}, title="Higher score, oldest", published_at=when(1))
        story_about({iran: (3, 5.0)}, title="Lower score, older", published_at=when(10))
        assert titles(parse(client.get("/", {"q": "Iran"}))) == [
            "Higher score, oldest",
            "Lower score, newest",
            "Lower score, older",
        ]

    def test_then_stories_that_only_contain_the_words_by_relevance_then_recency(self, client):
        iran = EntityFactory(name="Iran", type="GPE", story_count=1)
        story_about({iran: 1}, title="Tagged story", text="A story.", published_at=when(1))
        ArticleFactory(title="Untagged body match", text="Talks with Iran.", published_at=when(25))
        ArticleFactory(title="Iran in the title, untagged", text="Talks.", published_at=when(2))
        ArticleFactory(title="Nothing to do with it", text="Talks.", published_at=when(28))
        page = parse(client.get("/", {"q": "Iran"}))
        assert titles(page) == [
            "Tagged story",
            "Iran in the title, untagged",
            "Untagged body match",
        ]
        assert one(page, ".entity-card") is not None
        heading = text(one(page, ".results-heading"))
        assert "1 story about “Iran” · 2 more mentioning it" in heading
        # The text matches get a highlighted snippet too.
        body_hit = stories(page)[2]
        assert texts(body_hit, ".snippet mark") == ["Iran"]

    def test_text_query_ranks_by_relevance_then_recency(self, client):
        ArticleFactory(
            title="Weather report", text="Rain and a pipeline leak.", published_at=when(20)
        )
        ArticleFactory(
            title="Pipeline deal signed", text="The pipeline will carry gas.", published_at=when(1)
        )
        ArticleFactory(
            title="Market report", text="Sun and a pipeline leak.", published_at=when(10)
        )
        ArticleFactory(title="Nothing relevant", text="Rain.", published_at=when(28))
        page = parse(client.get("/", {"q": "pipeline"}))
        assert not select(page, ".entity-card")
        assert titles(page) == ["Pipeline deal signed", "Weather report", "Market report"]
        assert "3 stories matching “pipeline”" in text(one(page, ".results-heading"))

    def test_text_query_with_several_words_needs_all_of_them(self, client):
        ArticleFactory(title="Gas pipeline", text="Gas flows through the pipeline.")
        ArticleFactory(title="Oil pipeline", text="Oil flows.")
        assert titles(parse(client.get("/", {"q": "gas pipeline"}))) == ["Gas pipeline"]

    def test_entity_stories_paginate_into_the_text_matches(self, client):
        iran = EntityFactory(name="Iran", type="GPE", story_count=19)
        for i in range(19):
            story_about(
                {iran: 2}, title=f"Tagged {i:02d}", published_at=when(1) + timedelta(hours=i)
            )
        for i in range(3):
            ArticleFactory(title=f"Untagged {i} Iran", published_at=when(5) + timedelta(hours=i))
        first = parse(client.get("/", {"q": "Iran"}))
        second = parse(client.get("/", {"q": "Iran", "page": 2}))
        assert titles(first)[:19] == [f"Tagged {i:02d}" for i in reversed(range(19))]
        assert titles(first)[19] == "Untagged 2 Iran"
        assert titles(second) == ["Untagged 1 Iran", "Untagged 0 Iran"]


# --- filters --------------------------------------------------------------------------


class TestFilters:
    @pytest.fixture
    def corpus(self):
        iran = EntityFactory(name="Iran", type="GPE", story_count=3)
        person = EntityFactory(name="Ali Nima", type="PERSON", story_count=1)
        atlantic, reuters = SourceFactory(name="The Atlantic"), SourceFactory(name="Reuters")
        story_about({iran: 2}, title="Iran early", source=atlantic, published_at=when(1))
        story_about(
            {iran: 2, person: 3}, title="Iran middle", source=reuters, published_at=when(10)
        )
        story_about({iran: 2}, title="Iran late", source=atlantic, published_at=when(20))
        ArticleFactory(
            title="Plain story", text="A pipeline.", source=reuters, published_at=when(15)
        )
        return {"atlantic": atlantic, "reuters": reuters}

    def test_date_range_is_inclusive(self, client, corpus):
        params = {"q": "Iran", "date_from": "2025-02-10", "date_to": "2025-02-20"}
        assert titles(parse(client.get("/", params))) == ["Iran late", "Iran middle"]

    def test_the_last_representable_day_is_a_valid_end_date(self, client, corpus):
        params = {"q": "Iran", "date_to": "9999-12-31"}
        assert len(stories(parse(client.get("/", params)))) == 3

    def test_date_from_alone(self, client, corpus):
        assert titles(parse(client.get("/", {"date_from": "2025-02-11"}))) == [
            "Iran late",
            "Plain story",
        ]

    def test_source(self, client, corpus):
        params = {"q": "Iran", "source": corpus["atlantic"].pk}
        assert titles(parse(client.get("/", params))) == ["Iran late", "Iran early"]
        latest = parse(client.get("/", {"source": corpus["reuters"].pk}))
        assert titles(latest) == ["Plain story", "Iran middle"]

    # The entity type narrows entities, not stories: tests/browse/test_search_as_typed.py

    def test_text_query_with_filters(self, client, corpus):
        params = {"q": "pipeline", "source": corpus["reuters"].pk}
        assert titles(parse(client.get("/", params))) == ["Plain story"]

    def test_filters_are_kept_in_the_form(self, client, corpus):
        params = {"q": "Iran", "date_from": "2025-02-10", "source": corpus["reuters"].pk}
        page = parse(client.get("/", params))
        form = one(page, "form.filters")
        assert one(form, "input[name=date_from]").get("value") == "2025-02-10"
        selected = one(form, "select[name=source] option[selected]")
        assert selected.get("value") == str(corpus["reuters"].pk)
        assert one(form, "input[name=q]").get("value") == "Iran"

    def test_start_after_end_is_an_error_not_a_crash(self, client, corpus):
        params = {"q": "Iran", "date_from": "2025-02-20", "date_to": "2025-02-01"}
        page = parse(client.get("/", params))
        assert "start date is after the end date" in text(one(page, "form.filters .error"))
        assert len(stories(page)) == 3

    def test_nonsense_filter_values_are_ignored(self, client, corpus):
        page = parse(client.get("/", {"q": "Iran", "source": "999999", "date_from": "soon"}))
        assert len(stories(page)) == 3

    def test_an_invalid_filter_does_not_drop_the_valid_ones(self, client, corpus):
        params = {"q": "Iran", "source": corpus["atlantic"].pk, "date_from": "soon"}
        page = parse(client.get("/", params))
        assert titles(page) == ["Iran late", "Iran early"]
        assert "Date from: Enter a valid date." in text(one(page, "form.filters .error"))
        params = {"date_from": "2025-02-20", "date_to": "2025-02-01", "type": "PERSON"}
        page = parse(client.get("/", params))  # the dates dropped, the type kept
        assert len(titles(page)) == 4
        assert texts(page, "article.story li a") == ["Ali Nima"]

    def test_no_result_with_filters_says_so(self, client, corpus):
        page = parse(client.get("/", {"q": "Iran", "date_from": "2025-03-01"}))
        assert not stories(page)
        assert "with these filters" in text(one(page, ".no-results"))


# --- pagination ---------------------------------------------------------------------


class TestPagination:
    @pytest.fixture
    def many(self):
        start = timezone.now() - timedelta(days=100)
        return [
            ArticleFactory(title=f"Story {i:02d} pipeline", published_at=start + timedelta(hours=i))
            for i in range(45)
        ]

    def test_20_per_page(self, client, many):
        first = parse(client.get("/", {"q": "pipeline"}))
        assert len(stories(first)) == 20
        assert "Page 1 of 3" in text(one(first, "nav.pagination"))
        assert not select(first, "nav.pagination a[rel=prev]")
        nxt = one(first, "nav.pagination a[rel=next]")
        assert query_of(nxt.get("href")) == {"q": "pipeline", "page": "2"}

        second = parse(client.get("/", query_of(nxt.get("href"))))
        assert len(stories(second)) == 20
        assert not set(titles(first)) & set(titles(second))
        assert query_of(one(second, "a[rel=prev]").get("href")) == {"q": "pipeline", "page": "1"}

        third = parse(client.get("/", {"q": "pipeline", "page": 3}))
        assert len(stories(third)) == 5
        assert not select(third, "nav.pagination a[rel=next]")
        seen = set(titles(first)) | set(titles(second)) | set(titles(third))
        assert seen == {a.title for a in many}

    def test_latest_stories_are_paged_newest_first(self, client, many):
        first = parse(client.get("/"))
        assert titles(first) == [f"Story {i:02d} pipeline" for i in range(44, 24, -1)]

    def test_pagination_keeps_the_filters(self, client, many):
        page = parse(
            client.get("/", {"q": "pipeline", "about": "stars", "date_from": "2000-01-01"})
        )
        assert query_of(one(page, "a[rel=next]").get("href")) == {
            "q": "pipeline",
            "about": "stars",
            "date_from": "2000-01-01",
            "page": "2",
        }

    @pytest.mark.parametrize("number", ["99", "0", "-1", "abc", ""])
    def test_odd_page_numbers_do_not_fail(self, client, many, number):
        page = parse(client.get("/", {"q": "pipeline", "page": number}))
        assert stories(page)

    def test_no_pagination_for_one_page(self, client):
        ArticleFactory()
        assert not select(parse(client.get("/")), "nav.pagination")


# --- empty query and no results --------------------------------------------------------


class TestEmptyQuery:
    def test_latest_stories_and_trending_entities(self, client):
        now = timezone.now()
        hot = EntityFactory(name="Hot Topic", type="EVENT", specificity=2.0)
        warm = EntityFactory(name="Warm Topic", type="ORG", specificity=1.0)
        old = EntityFactory(name="Old Topic", type="ORG", specificity=3.0)
        for days in (1, 2, 3):
            story_about({hot: 2, warm: 1}, published_at=now - timedelta(days=days))
        for days in (30, 31, 32):
            story_about({old: 2}, published_at=now - timedelta(days=days))
        newest = ArticleFactory(title="Newest story", published_at=now)
        page = parse(client.get("/"))
        assert titles(page)[0] == newest.title
        assert "Latest stories" in text(one(page, ".results-heading"))
        trending = one(page, "section.trending")
        names = texts(trending, "li a")
        assert names[:2] == ["Hot Topic", "Warm Topic"]
        assert "Old Topic" not in names
        link = select(trending, "li a")[0]
        assert query_of(link.get("href")) == {"q": "Hot Topic"}

    def test_blank_query_is_the_empty_query(self, client):
        ArticleFactory(title="Only story")
        page = parse(client.get("/", {"q": "   "}))
        assert titles(page) == ["Only story"]
        assert "Latest stories" in text(one(page, ".results-heading"))

    def test_empty_site(self, client):
        page = parse(client.get("/"))
        assert "No stories yet" in text(one(page, ".no-results"))


class TestNoResults:
    @pytest.fixture
    def names(self):
        for name in ("Ali Nima", "Mohammed al-Sudani", "Iran"):
            story_about({EntityFactory(name=name, type="PERSON", story_count=1): 2})

    def test_friendly_message_and_nearest_names(self, client, names):
        page = parse(client.get("/", {"q": "Ali Nema"}))
        assert not stories(page)
        box = one(page, ".no-results")
        assert "No stories match “Ali Nema”" in text(box)
        assert "Did you mean" in text(box)
        assert texts(box, "a") == ["Ali Nima"]
        assert query_of(one(box, "a").get("href")) == {"q": "Ali Nima"}

    @pytest.mark.parametrize(
        ("q", "near"), [("Nimma", "Ali Nima"), ("Sudanni", "Mohammed al-Sudani")]
    )
    def test_a_misspelt_surname_finds_the_full_name(self, client, names, q, near):
        box = one(parse(client.get("/", {"q": q})), ".no-results")
        assert near in texts(box, "a")

    def test_nothing_near_either(self, client):
        story_about({EntityFactory(name="Iran", story_count=1): 2})
        box = one(parse(client.get("/", {"q": "xylophone"})), ".no-results")
        assert "No stories match “xylophone”" in text(box)
        assert "Try a shorter query" in text(box)
        assert not select(box, "a")


# --- escaping and hostile queries ---------------------------------------------------------


class TestEscaping:
    def test_markup_in_stored_fields_renders_inert(self, client):
        evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
        entity = EntityFactory(name=f"Evil {evil}", story_count=1)
        AliasFactory(name=f"Alias {evil}", entity=entity)
        story_about(
            {entity: 3},
            title=f"Title {evil}",
            text=f"Body pipeline {evil} more.",
            source=SourceFactory(name=f"Source {evil}"),
            url='https://example.com/a"><script>alert(3)</script>',
        )
        for params in ({}, {"q": "pipeline"}, {"q": f"Alias {evil}"}):
            response = client.get("/", params)
            page = parse(response)
            assert not inline_scripts(page), params
            assert not select(page, "img, [onerror]"), params
            assert b"<script>alert" not in response.content
            story = one(page, "section.results article.story")
            assert text(one(story, ".story-title")) == f"Title {evil}"
            assert text(one(story, ".source")) == f"Source {evil}"
            assert f"Evil {evil}" in texts(story, ".about-list a")
        card = one(parse(client.get("/", {"q": f"Alias {evil}"})), ".entity-card")
        assert f"Alias {evil}" in text(card)

    def test_markup_in_the_query_renders_inert(self, client):
        ArticleFactory(title="Unrelated")
        q = "<script>alert(1)</script>"
        response = client.get("/", {"q": q})
        page = parse(response)
        assert not inline_scripts(page)
        assert b"<script>alert" not in response.content
        assert q in text(one(page, ".no-results"))
        assert one(page, "title").text_content().startswith(q)

    @pytest.mark.parametrize(
        "q",
        [
            '"',
            '""',
            'a"b',
            "'",
            "(",
            ")",
            "*",
            "-",
            "^",
            ":",
            "NEAR(pipeline gas)",
            "pipeline AND OR NOT",
            "title:pipeline",
            "pipe*",
            '"unterminated pipeline',
            "{title text}: pipeline",
            "pipeline -gas",
            "!!!",
            "\\",
            "%",
            "_",
            "a" * 500,
            " ".join(["pipeline"] * 100),
            "é ü 北京 🙂",
            "\x00",
        ],
    )
    def test_search_syntax_in_the_query_is_not_an_error(self, client, q):
        ArticleFactory(title="Gas pipeline", text="The pipeline and the gas.")
        response = client.get("/", {"q": q})
        assert response.status_code == 200
        parse(response)


# --- JSON suggestions --------------------------------------------------------------------


def test_suggestions_while_typing(client):
    iran = EntityFactory(name="Iran", type="GPE", story_count=5)
    EntityFactory(name="Iraq", type="GPE", story_count=9)
    EntityFactory(name="Irish Ghost", type="ORG", story_count=0)
    AliasFactory(name="Persia", entity=iran)
    data = client.get("/suggest/", {"q": "ir"}).json()["results"]
    assert [(r["name"], r["stories"]) for r in data] == [("Iraq", 9), ("Iran", 5)]
    assert data[1]["type_label"] == "Country, city or state"
    assert data[1]["url"] == "/entities/iran/"
    assert [r["name"] for r in client.get("/suggest/", {"q": "pers"}).json()["results"]] == ["Iran"]
    assert client.get("/suggest/", {"q": ""}).json() == {"results": []}


@pytest.mark.parametrize("q", ["\x00", "ir\x00an", "\ue000", "%", "_", "'", '"'])
def test_suggestions_never_fail(client, q):
    EntityFactory(name="Iran", type="GPE", story_count=5)
    response = client.get("/suggest/", {"q": q})
    assert response.status_code == 200
    assert isinstance(response.json()["results"], list)


def test_the_language_filter_offers_the_languages_stories_are_in(client):
    for language in ("en", "ru", "en", "de", ""):
        ArticleFactory(language=language)
    page = parse(client.get("/", {"q": "story"}))
    offered = [o.get("value") for o in select(page, "select[name=language] option")]
    assert offered == ["", "en", "de", "ru"]  # "Any language", English, German, Russian
