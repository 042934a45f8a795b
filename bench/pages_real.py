"""Saved web pages through `manage.py ingest`, against a truth file (issue #12).

For each page named in FOLDER/truth.json (or --truth), run the real ingest
command on that one file in a throw-away database and compare what it
stored with what the truth says:

* stored: a new story was saved (a refusal or a "duplicate" of another
  page is a page lost);
* URL: the stored URL, canonicalised, equals the expected one ("file:" in
  the truth: any content-derived `file:` identity);
* date: the publication day in UTC; for a page the truth calls undated
  (null), the story must say it was dated at ingest;
* title: the headline, compared with case, spacing, quotes and dashes folded;
  near-right when their words' F1 is at least 0.8;
* language: ISO 639-1 code;
* body F1: bag-of-words F1 of the stored text against raw
  `trafilatura.extract(html)` on the same page; with a `text` in the truth,
  both are also scored against it.

Truth file: {"page.html": {"url": …, "title": …, "date": "YYYY-MM-DD" | null,
"language": "xx", "text": optional}, …}; keys starting with "_" are comments.

    python -m bench.pages_real tests/data/pages
    python -m bench.pages_real ~/pages --truth ~/pages/truth.json --base-url https://x.example/
"""

from __future__ import annotations

import io
import json
import re
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path

from bench.common import database, parser, table, verdict

_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
_WORD = re.compile(r"\w+")


def fold(title: str) -> str:
    title = unicodedata.normalize("NFKC", title or "").translate(_QUOTES)
    return " ".join(title.casefold().split())


def tokens(text: str) -> list[str]:
    """Words; CJK text (no spaces) counted by character."""
    words = []
    for word in _WORD.findall((text or "").casefold()):
        if any("\u3040" <= ch <= "\u9fff" for ch in word):
            words.extend(word)
        else:
            words.append(word)
    return words


def near_title(title: str, want: str) -> bool:
    """A title near the headline: the same words but for a few (a kicker,
    a subtitle, a site name left on), word F1 at least 0.8."""
    return f1(title, want) >= 0.8


def f1(candidate: str, reference: str) -> float:
    got, want = Counter(tokens(candidate)), Counter(tokens(reference))
    common = sum((got & want).values())
    if not got and not want:
        return 1.0
    if not common:
        return 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def url_matches(stored: str, expected: str) -> bool:
    from articles.urls_util import InvalidURL, canonical_url

    if expected == "file:":
        return stored.startswith("file:")
    try:
        return canonical_url(stored) == canonical_url(expected)
    except InvalidURL:
        return False


def ingest_one(path: Path, base_url: str) -> tuple[object | None, str, float]:
    """(stored article or None, what the command said, seconds)."""
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from articles.models import Article

    last = Article.objects.order_by("-id").values_list("id", flat=True).first() or 0
    out, err = io.StringIO(), io.StringIO()
    options = {"no_extract": True, "stdout": out, "stderr": err, "verbosity": 0}
    if base_url:
        options["base_url"] = base_url
    started = time.perf_counter()
    try:
        call_command("ingest", str(path), **options)
    except CommandError as exc:
        err.write(str(exc))
    seconds = time.perf_counter() - started
    article = Article.objects.filter(id__gt=last).order_by("id").first()
    said = " ".join((err.getvalue() or out.getvalue()).split())
    return article, said, seconds


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__)
    p.add_argument("folder", type=Path)
    p.add_argument("--truth", type=Path, default=None, help="default: FOLDER/truth.json")
    p.add_argument("--base-url", default="", help="passed to ingest (HTML files without a URL)")
    p.add_argument("--verbose", "-v", action="store_true", help="one line per page")
    args = p.parse_args(argv)
    truth_path = args.truth or args.folder / "truth.json"
    truth = {k: v for k, v in json.loads(truth_path.read_text()).items() if not k.startswith("_")}

    with database(args.db, url=args.database_url):
        import trafilatura

        from articles.models import Article

        try:  # models loaded once per process are not a page's cost
            from articles.languages import detect_language

            detect_language("warm up", "the language model loads once per process")
        except ImportError:  # before issue #12
            pass
        counts = Counter()
        ours_f1, raw_f1, ours_gold, raw_gold = [], [], [], []
        seconds = 0.0
        dated = sum(1 for t in truth.values() if t.get("date"))
        for name, want in sorted(truth.items()):
            path = args.folder / name
            html = path.read_bytes().decode("utf-8", errors="replace")
            raw = trafilatura.extract(html) or ""
            article, said, spent = ingest_one(path, args.base_url)
            seconds += spent
            checks = {}
            if article is not None:
                counts["stored"] += 1
                undated = article.date_source == Article.DateSource.INGESTED
                if want.get("date"):
                    checks["date"] = (
                        not undated and article.published_at.date().isoformat() == want["date"]
                    )
                else:
                    checks["date"] = undated
                checks["url"] = url_matches(article.canonical_url, want.get("url", ""))
                checks["title"] = fold(article.title) == fold(want.get("title", ""))
                checks["title_near"] = near_title(article.title, want.get("title", ""))
                checks["language"] = article.language == want.get("language", "")
                ours_f1.append(f1(article.text, raw))
                if want.get("text"):
                    ours_gold.append(f1(article.text, want["text"]))
            else:
                ours_f1.append(0.0)
                if want.get("text"):
                    ours_gold.append(0.0)
            if want.get("text"):
                raw_gold.append(f1(raw, want["text"]))
            raw_f1.append(1.0)
            for key, ok in checks.items():
                counts[key] += ok
            if args.verbose:
                if article is None:
                    print(f"{name}: NOT STORED ({said[:160]})")
                else:
                    wrong = [k for k, ok in checks.items() if not ok]
                    print(
                        f"{name}: {'ok' if not wrong else 'wrong ' + ', '.join(wrong)}"
                        f" | {article.canonical_url[:70]} | {article.published_at:%Y-%m-%d}"
                        f" ({article.date_source}) | {article.language or '-'}"
                        f" | {article.title[:50]}"
                    )
        n = len(truth)
        undated_pages = n - dated

        def mean(values):
            return sum(values) / len(values) if values else float("nan")

        rows = [
            ("pages stored", f"{counts['stored']} of {n}", f"{n}", verdict(counts["stored"] == n)),
            ("URL right", f"{counts['url']} of {n}", "", verdict(None)),
            (
                "date right to the day (UTC)",
                f"{counts['date']} of {n} ({dated} dated, {undated_pages} undated)",
                "",
                verdict(None),
            ),
            ("title is the headline", f"{counts['title']} of {n}", "", verdict(None)),
            ("title near-right (word F1 ≥ 0.8)", f"{counts['title_near']} of {n}", "", "n/a"),
            ("language right", f"{counts['language']} of {n}", "", verdict(None)),
            ("body F1 against raw trafilatura", f"{mean(ours_f1):.3f}", "", verdict(None)),
        ]
        if ours_gold:
            rows += [
                ("body F1 against the truth text", f"{mean(ours_gold):.3f}", "", verdict(None)),
                ("raw trafilatura F1, same pages", f"{mean(raw_gold):.3f}", "", verdict(None)),
            ]
        rows.append(("ingest time per page, ms", f"{1000 * seconds / max(n, 1):.1f}", "", "n/a"))
        print(table(rows, title=f"Saved pages: {n} in {args.folder}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
