"""manage.py ingest / export / rescore, as an operator runs them (SPEC §5)."""

import json
import re
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from articles.models import Article
from entities.models import Entity, Mention
from tests.browse.pages import story_about
from tests.factories import AliasFactory, ArticleFactory, EntityFactory, SourceFactory

pytestmark = pytest.mark.django_db(transaction=False)


def run(*args, **options):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def jsonl(*records) -> str:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n"


GOOD_1 = {
    "url": "https://news.example.com/world/2025/02/iraq-talks/?utm_source=rss",
    "title": "Iraq and Iran hold talks in Baghdad",
    "text": "Iraqi President Abdul Latif Rashid met Iranian officials in Baghdad on Monday.\n\n"
    "Prime Minister Mohammed al-Sudani said Iraq wanted calm.",
    "published_at": "2025-02-01T10:00:00Z",
    "source": "Example News",
}
GOOD_2 = {
    "url": "https://news.example.com/business/2025/02/pipeline",
    "title": "Pipeline deal signed in Ankara",
    "html": "<html><body><article><p>Turkey and Azerbaijan signed a gas pipeline deal in "
    "Ankara on Tuesday, officials in Baku said.</p></article></body></html>",
    "source": "Example News",
}
GOOD_3 = {
    "url": "https://other.example.org/story-3",
    "title": "Floods in Valencia",
    "text": "Heavy rain flooded Valencia, Spain, the regional government said.",
}


@pytest.fixture
def bulk_file(tmp_path):
    path = tmp_path / "stories.jsonl"
    path.write_text(
        jsonl(
            GOOD_1,  # 1
            "{not json at all",  # 2: malformed
            "",  # 3: blank lines are skipped, not failures
            "[1, 2, 3]",  # 4: not an object
            {"title": "No URL", "text": "A story without its address."},  # 5: missing url
            {**GOOD_1, "url": GOOD_1["url"].split("?")[0] + "#top"},  # 6: duplicate
            GOOD_2,  # 7
            {"url": "ftp://example.com/x", "text": "Wrong scheme."},  # 8: bad url
            {"url": "https://example.com/no-text", "title": "Only a title"},  # 9: no text
            GOOD_3,  # 10
        )
        + '{"url": "https://example.com/cut", "title": "Trunc',  # 11: truncated, no newline
        encoding="utf-8",
    )
    return path


class TestIngestJSONL:
    def test_summary_each_bad_line_by_number_and_good_lines_stored(self, bulk_file):
        out, err = run("ingest", str(bulk_file), "--no-extract")
        assert "ingest: 3 added, 1 duplicates, 6 failed" in out
        bad = {line.split(": ", 1)[0]: line for line in err.splitlines() if ".jsonl:" in line}
        assert set(bad) == {f"{bulk_file}:{n}" for n in (2, 4, 5, 8, 9, 11)}
        assert "invalid JSON" in bad[f"{bulk_file}:2"]
        assert re.search(r"invalid JSON \([A-Z][^()]*, column \d+\)", bad[f"{bulk_file}:2"])
        assert "expected a JSON object" in bad[f"{bulk_file}:4"]
        assert "url is required" in bad[f"{bulk_file}:5"]
        assert "http" in bad[f"{bulk_file}:8"]
        assert "no text" in bad[f"{bulk_file}:9"]
        assert "invalid JSON" in bad[f"{bulk_file}:11"]

        stored = {a.canonical_url: a for a in Article.objects.select_related("source")}
        assert set(stored) == {
            "https://news.example.com/world/2025/02/iraq-talks",
            "https://news.example.com/business/2025/02/pipeline",
            "https://other.example.org/story-3",
        }
        first = stored["https://news.example.com/world/2025/02/iraq-talks"]
        assert first.title == GOOD_1["title"]
        assert first.url == GOOD_1["url"]
        assert first.source.name == "Example News"
        assert first.published_at == datetime(2025, 2, 1, 10, tzinfo=UTC)
        assert (
            first.text.split("\n\n")[1]
            == "Prime Minister Mohammed al-Sudani said Iraq wanted calm."
        )
        from_html = stored["https://news.example.com/business/2025/02/pipeline"]
        assert "gas pipeline deal" in from_html.text
        assert "<p>" not in from_html.text
        assert stored["https://other.example.org/story-3"].source is None
        assert {a.status for a in stored.values()} == {"pending"}

    def test_running_it_again_only_counts_duplicates(self, bulk_file):
        run("ingest", str(bulk_file), "--no-extract")
        out, _ = run("ingest", str(bulk_file), "--no-extract")
        assert "ingest: 0 added, 4 duplicates, 6 failed" in out
        assert Article.objects.count() == 3

    def test_ingest_extracts_the_entities(self, bulk_file):
        out, err = run("ingest", str(bulk_file))
        assert "3 added, 1 duplicates, 6 failed" in out
        assert "extraction failed" not in err
        assert "3 extracted" in out
        assert set(Article.objects.values_list("status", flat=True)) == {"extracted"}
        first = Article.objects.get(title=GOOD_1["title"])
        names = set(first.mentions.values_list("entity__name", flat=True))
        assert {"Baghdad", "Mohammed al-Sudani", "Abdul Latif Rashid"} <= names
        assert Entity.objects.get(name="Baghdad").story_count == 1

    def test_only_bad_lines_is_an_error(self, tmp_path):
        path = tmp_path / "bad.jsonl"
        path.write_text(jsonl("nope", "[]"), encoding="utf-8")
        with pytest.raises(CommandError, match="nothing was ingested"):
            run("ingest", str(path))
        assert not Article.objects.exists()

    def test_missing_path_is_reported(self, tmp_path, bulk_file):
        out, err = run("ingest", str(tmp_path / "nowhere.jsonl"), str(bulk_file), "--no-extract")
        assert f"{tmp_path / 'nowhere.jsonl'}: no such file or folder" in err
        assert "3 added, 1 duplicates, 7 failed" in out

    def test_undecodable_bytes_do_not_stop_the_file(self, tmp_path):
        path = tmp_path / "latin.jsonl"
        path.write_bytes(
            json.dumps({**GOOD_3, "title": "Caf\u00e9"}).encode("utf-8") + b"\n\xff\xfe garbage\n"
        )
        out, err = run("ingest", str(path), "--no-extract")
        assert "1 added, 0 duplicates, 1 failed" in out
        assert f"{path}:2" in err
        assert Article.objects.get().title == "Café"


HTML_PAGE = """<!doctype html>
<html><head><title>{title}</title>{canonical}</head>
<body><article><h1>{title}</h1>
<p>{body}</p>
<p>The talks will continue next week in Geneva, diplomats said on Friday evening.</p>
</article></body></html>"""


def html_file(path, title, body, canonical=""):
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    path.write_text(HTML_PAGE.format(title=title, body=body, canonical=link), encoding="utf-8")
    return path


class TestIngestHTML:
    def test_html_file_with_its_canonical_url(self, tmp_path):
        page = html_file(
            tmp_path / "talks.html",
            "Talks in Geneva",
            "Negotiators from the United Nations met in Geneva to discuss a ceasefire in Sudan.",
            canonical="https://news.example.com/world/geneva-talks",
        )
        out, err = run("ingest", str(page), "--no-extract")
        assert "ingest: 1 added, 0 duplicates, 0 failed" in out
        assert err == ""
        article = Article.objects.get()
        assert article.canonical_url == "https://news.example.com/world/geneva-talks"
        assert article.title == "Talks in Geneva"
        assert "ceasefire in Sudan" in article.text
        assert "<p>" not in article.text

    def test_html_without_a_url_is_stored_under_a_file_identity(self, tmp_path):
        # Issue #12 changed this: such a page used to be refused ("pass --base-url").
        page = html_file(tmp_path / "no-url.html", "No address", "A story about Lisbon and Porto.")
        out, err = run("ingest", str(page), "--no-extract")
        assert "1 added" in out
        assert err == ""
        article = Article.objects.get()
        assert article.canonical_url.startswith("file:sha256:")
        assert not article.has_web_url
        # The identity comes from the content: the same page again is a duplicate.
        copy = tmp_path / "copy-of-no-url.html"
        copy.write_bytes(page.read_bytes())
        out, _ = run("ingest", str(copy), "--no-extract")
        assert "0 added, 1 duplicates" in out

    def test_html_without_a_url_takes_the_base_url(self, tmp_path):
        page = html_file(tmp_path / "no-url.html", "No address", "A story about Lisbon and Porto.")
        out, err = run(
            "ingest", str(page), "--no-extract", "--base-url", "https://archive.example.com/pages/"
        )
        assert "1 added" in out
        assert err == ""
        assert (
            Article.objects.get().canonical_url == "https://archive.example.com/pages/no-url.html"
        )

    def test_a_folder_of_html_and_jsonl(self, tmp_path, bulk_file):
        folder = tmp_path / "batch"
        (folder / "nested").mkdir(parents=True)
        html_file(
            folder / "a.html",
            "Geneva talks",
            "Negotiators from the United Nations met in Geneva to discuss Sudan.",
            canonical="https://news.example.com/a",
        )
        html_file(
            folder / "nested" / "b.htm",
            "Lisbon summit",
            "Leaders of Portugal and Spain met in Lisbon to discuss water.",
            canonical="https://news.example.com/b",
        )
        (folder / "notes.txt").write_text("not a story", encoding="utf-8")
        bulk_file.rename(folder / "stories.jsonl")
        out, err = run("ingest", str(folder), "--no-extract")
        assert "ingest: 5 added, 1 duplicates, 6 failed" in out
        assert "notes.txt" not in err
        assert (
            Article.objects.filter(canonical_url__startswith="https://news.example.com/").count()
            == 4
        )

    def test_same_html_twice_is_a_duplicate(self, tmp_path):
        body = "Negotiators from the United Nations met in Geneva to discuss Sudan."
        html_file(tmp_path / "one.html", "Geneva", body, canonical="https://a.example.com/x")
        html_file(tmp_path / "two.html", "Geneva", body, canonical="https://b.example.com/y")
        out, _ = run("ingest", str(tmp_path), "--no-extract")
        assert "1 added, 1 duplicates, 0 failed" in out


class TestExport:
    @pytest.fixture
    def corpus(self):
        iran = EntityFactory(name="Iran", type="GPE")
        AliasFactory(name="Persia", entity=iran)
        AliasFactory(name="Islamic Republic", entity=iran)
        nima = EntityFactory(name="Ali Nima", type="PERSON")
        junk = EntityFactory(name="Monday", type="ORG", blocked=True)
        first = story_about(
            {iran: (4, 2.5), nima: (2, 0.75), junk: (3, 1.0)},
            title="Talks with Iran",
            url="https://news.example.com/iran-talks",
            source=SourceFactory(name="Example News"),
            published_at=datetime(2025, 2, 1, 10, tzinfo=UTC),
        )
        Mention.objects.filter(article=first, entity=iran).update(count=5)
        second = ArticleFactory(title="Nothing named", source=None)
        return first, second

    def test_one_json_object_per_story_to_a_file(self, tmp_path, corpus):
        first, second = corpus
        target = tmp_path / "export.jsonl"
        out, err = run("export", "--output", str(target))
        assert out == ""
        assert "2 stories" in err
        lines = target.read_text(encoding="utf-8").splitlines()
        assert len(lines) == 2
        records = [json.loads(line) for line in lines]
        assert [r["id"] for r in records] == [first.pk, second.pk]
        record = records[0]
        assert set(record) == {
            "id",
            "url",
            "title",
            "published_at",
            "source",
            "copy_of",
            "language",
            "entities",
        }
        assert record["url"] == "https://news.example.com/iran-talks"
        assert record["title"] == "Talks with Iran"
        assert record["source"] == "Example News"
        assert datetime.fromisoformat(record["published_at"]) == datetime(
            2025, 2, 1, 10, tzinfo=UTC
        )
        assert record["entities"] == [
            {
                "name": "Iran",
                "type": "GPE",
                "stars": 4,
                "score": 2.5,
                "mentions": 5,
                "aliases": ["Islamic Republic", "Persia"],
            },
            {
                "name": "Ali Nima",
                "type": "PERSON",
                "stars": 2,
                "score": 0.75,
                "mentions": 1,
                "aliases": [],
            },
        ]
        assert records[1]["source"] is None
        assert records[1]["entities"] == []

    def test_to_stdout_by_default(self, corpus):
        out, err = run("export")
        records = [json.loads(line) for line in out.splitlines()]
        assert [r["title"] for r in records] == ["Talks with Iran", "Nothing named"]
        assert "2 stories written to stdout" in err

    def test_unicode_is_written_as_is(self, tmp_path):
        ArticleFactory(title="Café in Zürich — 北京")
        target = tmp_path / "out.jsonl"
        run("export", "-o", str(target))
        raw = target.read_text(encoding="utf-8")
        assert "Café in Zürich — 北京" in raw
        assert json.loads(raw)["title"] == "Café in Zürich — 北京"

    def test_unwritable_output_is_a_command_error(self, tmp_path, corpus):
        with pytest.raises(CommandError, match="cannot write"):
            run("export", "--output", str(tmp_path / "missing-folder" / "out.jsonl"))

    def test_round_trip_through_ingest(self, tmp_path, ingest_story):
        story = ingest_story(
            "Iraq and Iran hold talks",
            "Prime Minister Mohammed al-Sudani met Iranian officials in Baghdad.",
            source="Example News",
        )
        target = tmp_path / "export.jsonl"
        run("export", "--output", str(target))
        record = json.loads(target.read_text(encoding="utf-8"))
        stored = {m.entity.name: m for m in story.mentions.select_related("entity")}
        assert {e["name"] for e in record["entities"]} == set(stored)
        for entity in record["entities"]:
            assert entity["stars"] == stored[entity["name"]].stars
            assert 1 <= entity["stars"] <= 4
        stars = [e["stars"] for e in record["entities"]]
        assert stars == sorted(stars, reverse=True)


class TestRescore:
    def test_prints_a_summary_and_updates_counts(self):
        iran, iraq, nima = (EntityFactory(name=n) for n in ("Iran", "Iraq", "Ali Nima"))
        story_about({iran: 1, iraq: 1})
        story_about({iran: 1, nima: 1})
        story_about({iran: 1})
        out, err = run("rescore")
        assert err == ""
        assert out.startswith("rescore: 5 (story, entity) pairs over 3 stories")
        assert "stars changed" in out
        iran.refresh_from_db()
        nima.refresh_from_db()
        assert (iran.story_count, nima.story_count) == (3, 1)
        # Rarer never gets fewer stars (SPEC §6): Ali Nima is in 1 story, Iran in 3.
        mentions = {
            m.entity.name: m
            for m in Mention.objects.filter(article__mentions__entity=nima)
            .select_related("entity")
            .distinct()
        }
        assert mentions["Ali Nima"].stars >= mentions["Iran"].stars

    def test_empty_corpus(self):
        out, _ = run("rescore")
        assert out.startswith("rescore: 0 (story, entity) pairs over 0 stories")
