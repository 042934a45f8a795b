"""Realistic synthetic news stories for the benchmarks.

~600-word stories built from varied sentence templates, with names drawn from
a Zipf-distributed pool of ~20,000 entities (people, organisations, places),
so a few recur everywhere and most are rare. Deterministic for a given seed.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta


def _words(block: str) -> list[str]:
    return block.split()


FIRST = _words("""
Amira Bashir Carlos Dmitri Elena Farid Grace Hassan Ingrid Jonas Kenji Layla Mateo Nadia Oskar
Priya Quentin Rania Samuel Tamsin Umar Valeria Wei Ximena Yusuf Zofia Adaeze Bruno Chiara Dawit
Esme Fionn Gulnara Hamid Isla Joaquin Kavya Lorenzo Mirela Nikolai Olufemi Petra Rashid Sigrid
Tomas Ulla Viktor Wanjiru Yara Zeynep
""")
LAST = _words("""
Abara Bergstrom Castellanos Dimitrov Eklund Farouk Gallagher Haddad Ishikawa Jovanovic Kowalski
Lindqvist Mbeki Novak Okonkwo Petrakis Quispe Rahimi Sorensen Takahashi Uchenna Valdivia Whitcombe
Xu Yilmaz Zamora Achterberg Brennan Cavanagh Delacroix Esposito Fairbanks Gutierrez Holloway Iqbal
Jaramillo Kristiansen Lachance Moreau Nakamura Oyelaran Pellegrini Rosenthal Szabo Thorne
Underwood Vasquez Wexler Yamamoto Zielinski
""")
ORG_A = _words("""
Northern Atlantic United Federal National Continental Pacific Eastern Royal Global Central Western
Southern Coastal Metropolitan Allied Consolidated Independent Maritime Highland
""")
ORG_B = _words("""
Energy Shipping Mining Telecom Holdings Analytics Logistics Pharmaceuticals Motors Steel Airlines
Insurance Foods Textiles Semiconductors Media Chemicals Robotics Water Railways
""")
ORG_C = _words("""
Corporation Group Authority Commission Council Alliance Institute Agency Union Bank
""")
PLACE_A = _words("Port Lake North South East West New Upper Lower Saint Fort Mount Glen")
PLACE_HEAD = _words("""
Ar Bel Cal Dun El Far Gar Hal Iv Jas Kel Lor Mar Nor Or Pel Quar Rhos Sel Tar Um Val Wex Yar Zel
""")
PLACE_TAIL = _words("""
den mora dris more sweth row net ven ly kar vik ne rick wick lan lam ton stead holm field
""")

SENTENCES = [
    "{a} met {b} in {p} on {day} to discuss the proposal, according to people familiar with "
    "the talks.",
    "Officials at {o} said the decision would be reviewed by the end of the month.",
    '{a} told reporters in {p} that the agreement was "a necessary first step" and urged {o} '
    "to act.",
    "The move by {o} drew criticism from {b}, who called it rushed and poorly explained.",
    "Analysts in {p} expect {o} to announce further measures once the figures are published.",
    "According to a statement from {o}, talks with {o2} will resume in {p} next week.",
    "{b} said the plan could cost several billion and would need support from {o}.",
    "Residents of {p} have protested for weeks, demanding that {a} meet their representatives.",
    "A spokesperson for {o2} declined to comment on the reports, citing ongoing negotiations.",
    "The dispute between {o} and {o2} has unsettled markets from {p} to {p2}.",
    "In an interview, {a} acknowledged that the timetable was ambitious but said it was "
    "achievable.",
    "Critics, including {b}, argue that the rules favour large firms such as {o}.",
    "The report, commissioned by {o}, found that delays in {p} had doubled since last year.",
    "{a} is expected to travel to {p2} later this week for meetings with {b}.",
    "Shares of {o} fell sharply after the announcement before recovering in afternoon trading.",
    "Lawmakers in {p} will vote on the measure on {day}, and {a} has promised to support it.",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
SOURCES = ["The Harbour Ledger", "Meridian Daily", "Northgate Post"]
ROLES = {"a": "PERSON", "b": "PERSON", "o": "ORG", "o2": "ORG", "p": "GPE", "p2": "GPE"}


def entity_pool(size: int = 20_000, seed: int = 7) -> list[tuple[str, str]]:
    """Distinct (name, label) pairs, half people, 30 % organisations, 20 %
    places; the list order is the Zipf rank."""
    rng = random.Random(seed)
    names: dict[str, str] = {}
    while len(names) < size:
        kind = rng.random()
        if kind < 0.5:
            last = rng.choice(LAST)
            if rng.random() < 0.8:
                last = f"{last}-{rng.choice(LAST)}"
            name, label = f"{rng.choice(FIRST)} {last}", "PERSON"
        elif kind < 0.8:
            head = rng.choice(ORG_A) if rng.random() < 0.5 else _place_stem(rng)
            name, label = f"{head} {rng.choice(ORG_B)} {rng.choice(ORG_C)}", "ORG"
        else:
            stem = _place_stem(rng)
            name = f"{rng.choice(PLACE_A)} {stem}" if rng.random() < 0.6 else stem
            label = "GPE"
        names.setdefault(name, label)
    return list(names.items())


def _place_stem(rng: random.Random) -> str:
    return rng.choice(PLACE_HEAD) + rng.choice(PLACE_TAIL)


class ZipfPicker:
    """Draws indexes 0..n-1 with P(rank k) ∝ 1 / k**s."""

    def __init__(self, pool: list[tuple[str, str]], rng: random.Random, s: float = 1.1):
        self.pool, self.rng = pool, rng
        weights = [1 / (rank**s) for rank in range(1, len(pool) + 1)]
        total, acc = sum(weights), 0.0
        self.cumulative = []
        for w in weights:
            acc += w / total
            self.cumulative.append(acc)
        self.by_label: dict[str, list[int]] = {}
        for i, (_, label) in enumerate(pool):
            self.by_label.setdefault(label, []).append(i)

    def index(self) -> int:
        i = bisect.bisect_left(self.cumulative, self.rng.random())
        return min(i, len(self.pool) - 1)

    def pick(self, label: str | None = None) -> str:
        while True:
            name, kind = self.pool[self.index()]
            if label is None or kind == label:
                return name


def stories(
    count: int,
    *,
    words: int = 600,
    seed: int = 11,
    start_index: int = 0,
    templates: list[str] | None = None,
    days: list[str] | None = None,
) -> Iterator[dict]:
    """JSONL-shaped story records (url, title, text, published_at, source, names);
    in another language with its sentence `templates` and `days` (bench/synthetic_fr.py),
    which then also gets each story's opening `cast` to title it."""
    rng = random.Random(seed + start_index)
    picker = ZipfPicker(entity_pool(), rng)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for n in range(start_index, start_index + count):
        cast = {role: picker.pick(label) for role, label in ROLES.items()}
        opening = dict(cast)
        names = dict.fromkeys(cast.values())
        paragraphs, total = [], 0
        while total < words:
            sentences = []
            for _ in range(rng.randint(2, 4)):
                if rng.random() < 0.3:  # fresh names now and then, as real stories have
                    role = rng.choice(["b", "o2", "p2"])
                    cast[role] = picker.pick(ROLES[role])
                    names[cast[role]] = None
                sentence = rng.choice(templates or SENTENCES).format(
                    day=rng.choice(days or DAYS), **cast
                )
                sentences.append(sentence)
                total += len(sentence.split())
            paragraphs.append(" ".join(sentences))
        yield {
            "url": f"https://news.example.com/world/2025/{n % 12 + 1:02d}/story-{n}",
            "title": f"{cast['a']} and {cast['o']} at odds over plans for {cast['p']}",
            "text": "\n\n".join(paragraphs),
            "published_at": (start + timedelta(minutes=37 * n)).isoformat(),
            "source": rng.choice(SOURCES),
            # Not part of the JSONL format (ingestion ignores it): the names
            # written into the story, for the bulk loader's mentions.
            "names": [name for name in names if name],
            **({"cast": opening} if templates else {}),
        }
