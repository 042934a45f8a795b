"""Copies of one story (SPEC §12, issue #24): near-duplicate detection at
ingest and the copy groups it builds.

Owns the story's fingerprint (a MinHash of its text's word shingles, by
`datasketch`), the LSH band keys stored per story in `StoryBand` (so finding
candidates is an index probe on (key), on SQLite and PostgreSQL alike, with
no in-memory index and nothing to recompute on a rebuild), the check of a
candidate on the text itself (`similarity`), and the group writes: joining a
new story to its group at ingest, and the editors' split, join and choice of
representative (recorded in the admin log, see articles/admin.py).

A group is a representative (copy_of NULL) and its copies (copy_of = the
representative). The earliest story represents its group unless an editor
chose another (`copy_by_editor`); a story an editor placed is never moved by
detection.
"""

from __future__ import annotations

import calendar
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from hashlib import blake2b

import numpy as np
from datasketch import MinHash
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q
from django.db.models.functions import Coalesce

from articles.models import Article, StoryBand

SHINGLE_WORDS = 3
# A word (a number keeps its separators: "2,300", "4:17", "0.6" are one
# fact) and what comes before it, to tell a sentence's first word from a name.
_WORD = re.compile(r"(\W*)(\w+(?:[.,:'’]\d+)*)", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?\n]")
_NUMBER = re.compile(r"\d")
# A day of the month says when, not what: every story filed that day (its
# dateline, "on March 3") has it.
_MONTHS = frozenset(
    name.casefold().rstrip(".") for name in (*calendar.month_name[1:], *calendar.month_abbr[1:])
)
PLAIN, NUMBER, NAME = 0, 1, 2


# -- the fingerprint ---------------------------------------------------------


def words(text: str) -> tuple[list[str], list[int]]:
    """The text's words, casefolded, and what each is: a number, a name (a
    capitalised word inside a sentence) or a plain word."""
    found = _WORD.findall(text)
    folded = [word.casefold() for _, word in found]
    kinds = [PLAIN] * len(found)
    # Only words not all in lower case can be numbers or names.
    for i in [i for i, (_, word) in enumerate(found) if not word.islower()]:
        gap, word = found[i]
        if word.isalpha():
            if word[0].isupper() and i and not _SENTENCE_END.search(gap):
                kinds[i] = NAME
        elif _NUMBER.search(word):
            kinds[i] = NUMBER
    return folded, kinds


def shingles(tokens: Sequence[str]) -> set[tuple[str, ...]]:
    """Runs of SHINGLE_WORDS words (the whole text when shorter)."""
    if len(tokens) < SHINGLE_WORDS:
        return {tuple(tokens)} if tokens else set()
    return set(zip(*(tokens[i:] for i in range(SHINGLE_WORDS)), strict=False))


def facts(tokens: Sequence[str], kinds: Sequence[int], kind: int) -> dict[str, frozenset[str]]:
    """The numbers (or names) the text states, by the plain word next to
    them: "rose 41 centimetres" gives {"<rose": {"41"}, ">centimetres":
    {"41"}}; "met Yusuf Novak on", {"<met": {"yusuf"}, ">on": {"novak"}}.
    Two stories cut from one template (a results table, a market report, a
    weather bulletin) put other numbers and names next to the same words;
    two copies, the same ones (a reworded neighbour just gives a context the
    other lacks). A number next to a month is a date and left out: every
    story filed that day has it."""
    found: dict[str, set[str]] = {}
    last = len(tokens) - 1
    for i in [i for i, k in enumerate(kinds) if k == kind]:
        token = tokens[i]
        before = tokens[i - 1] if i and kinds[i - 1] == PLAIN else ""
        after = tokens[i + 1] if i < last and kinds[i + 1] == PLAIN else ""
        if kind == NUMBER and (before in _MONTHS or after in _MONTHS):
            continue
        if before:
            found.setdefault("<" + before, set()).add(token)
        if after:
            found.setdefault(">" + after, set()).add(token)
    return {context: frozenset(values) for context, values in found.items()}


@dataclass(frozen=True)
class Fingerprint:
    shingles: frozenset[tuple[str, ...]]
    numbers: dict[str, frozenset[str]]
    names: dict[str, frozenset[str]]
    band_keys: tuple[int, ...]
    # The number of shingles (4 bytes) and the MinHash values, as stored.
    signature: bytes = b""


def _shingle_hash(value: bytes) -> int:
    return zlib.crc32(value)


@cache
def _permutations(num_perm: int):
    return MinHash(num_perm=num_perm, seed=1, scheme="affine32").permutations


def minhash(shingle_set: Iterable[tuple[str, ...]], *, num_perm: int) -> np.ndarray:
    """The MinHash values of the shingles (datasketch), as unsigned 32-bit ints."""
    hashed = MinHash(
        num_perm=num_perm,
        hashfunc=_shingle_hash,
        permutations=_permutations(num_perm),
        scheme="affine32",
    )
    hashed.update_batch([" ".join(s).encode() for s in shingle_set])
    return np.asarray(hashed.hashvalues, dtype="<u4")


def band_keys(values: np.ndarray, *, bands: int, rows: int) -> tuple[int, ...]:
    """One key a band: the band's number and its `rows` MinHash values hashed
    to a signed 64-bit integer (a BIGINT on both databases)."""
    keys = []
    for band in range(bands):
        digest = blake2b(
            band.to_bytes(2, "little") + values[band * rows : (band + 1) * rows].tobytes(),
            digest_size=8,
        ).digest()
        keys.append(int.from_bytes(digest, "little", signed=True))
    return tuple(keys)


def fingerprint(
    text: str, *, bands: int | None = None, rows: int | None = None, keys: bool = True
) -> Fingerprint:
    """What detection reads of a text; without `keys`, only what the check on
    the text needs (a candidate's band keys are already stored)."""
    tokens, kinds = words(text)
    shingle_set = frozenset(shingles(tokens))
    keys_, signature = (), b""
    if shingle_set and keys:
        bands, rows = bands or settings.COPY_LSH_BANDS, rows or settings.COPY_LSH_ROWS
        values = minhash(shingle_set, num_perm=bands * rows)
        keys_ = band_keys(values, bands=bands, rows=rows)
        signature = len(shingle_set).to_bytes(4, "little") + values.tobytes()
    return Fingerprint(
        shingles=shingle_set,
        numbers=facts(tokens, kinds, NUMBER),
        names=facts(tokens, kinds, NAME),
        band_keys=keys_,
        signature=signature,
    )


def _overlap(a: frozenset, b: frozenset) -> float:
    """Share of the smaller set found in the larger: a trimmed copy, or one
    with boilerplate or new paragraphs added, is contained in the other."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def number_agreement(a: dict[str, frozenset[str]], b: dict[str, frozenset[str]]) -> float | None:
    """Of the number contexts both texts have, the share where they state a
    same number; None when they share none. One number that differs is a
    different fact: a score, a price, a temperature."""
    shared = a.keys() & b.keys()
    if not shared:
        return None
    return sum(1 for context in shared if a[context] & b[context]) / len(shared)


def name_agreement(a: dict[str, frozenset[str]], b: dict[str, frozenset[str]]) -> float | None:
    """Over the name contexts both texts have, how far they name the same
    people and places there (each context's overlap, averaged); None when
    they share none. Names recur across stories more than numbers do."""
    shared = a.keys() & b.keys()
    if not shared:
        return None
    return sum(_overlap(a[context], b[context]) for context in shared) / len(shared)


def similarity(a: Fingerprint, b: Fingerprint) -> float:
    """How surely two stories are copies of one, 0-1, read on their texts:
    the overlap of their word shingles, held down by how far the numbers and
    the names they both place agree. Two stories sharing a template share
    shingles but not facts; two copies share both."""
    scores = [_overlap(a.shingles, b.shingles)]
    for agreement in (number_agreement(a.numbers, b.numbers), name_agreement(a.names, b.names)):
        if agreement is not None:
            scores.append(agreement)
    return min(scores)


# -- candidates and groups ---------------------------------------------------


def candidates(keys: Sequence[int], *, exclude: int | None = None) -> list[int]:
    """Ids of the stories sharing at least one band key, most shared first, at
    most COPY_MAX_CANDIDATES: one probe of the (key) index a band."""
    if not keys:
        return []
    rows = StoryBand.objects.filter(key__in=keys)
    if exclude is not None:
        rows = rows.exclude(article_id=exclude)
    return list(
        rows.values("article_id")
        .annotate(shared=Count("id"))
        .order_by("-shared", "article_id")
        .values_list("article_id", flat=True)[: settings.COPY_MAX_CANDIDATES]
    )


@dataclass(frozen=True)
class Match:
    article_id: int
    score: float


# How far below the Jaccard a containment of COPY_THRESHOLD implies a
# candidate's estimated Jaccard may fall and still have its text read: three
# standard errors of the estimate from 96 MinHash values.
SIGNATURE_SLACK = 0.15


def could_be_copies(a: bytes, b: bytes, *, threshold: float) -> bool:
    """False when two stored signatures show that the texts' shingles cannot
    overlap enough: a containment c of the smaller set (size s) in the
    larger (size l) is a Jaccard of c·s / (s + l − c·s), estimated by the
    share of equal MinHash values. True when either is missing."""
    if len(a) != len(b) or len(a) <= 4:
        return True
    sizes = sorted((int.from_bytes(a[:4], "little"), int.from_bytes(b[:4], "little")))
    small, large = sizes
    needed = threshold * small / (small + large - threshold * small)
    estimate = float(
        np.mean(np.frombuffer(a, dtype="<u4", offset=4) == np.frombuffer(b, dtype="<u4", offset=4))
    )
    return estimate >= needed - SIGNATURE_SLACK


def best_match(print_: Fingerprint, *, exclude: int | None = None) -> Match | None:
    """The most similar stored story at or above COPY_THRESHOLD, if any: the
    candidates' stored signatures first, then the text of those that could
    be copies, one a group (the one sharing most band keys: a story joins
    the group, whichever member it matched)."""
    ids = candidates(print_.band_keys, exclude=exclude)
    if not ids:
        return None
    threshold = settings.COPY_THRESHOLD
    stored = {
        other_id: (signature, group)
        for other_id, signature, group in Article.objects.filter(id__in=ids).values_list(
            "id", "copy_signature", Coalesce("copy_of_id", "id")
        )
    }
    plausible, groups = [], set()
    for other_id in ids:  # most band keys shared first
        signature, group = stored.get(other_id, (b"", None))
        if group in groups:
            continue
        if could_be_copies(print_.signature, bytes(signature or b""), threshold=threshold):
            plausible.append(other_id)
            groups.add(group)
    best = None
    for other_id, text in Article.objects.filter(id__in=plausible).values_list("id", "text"):
        score = similarity(print_, fingerprint(text, keys=False))
        if score >= threshold and (best is None or score > best.score):
            best = Match(other_id, score)
    return best


def store_bands(*, article: Article, keys: Sequence[int], replace: bool = True) -> None:
    if replace:
        StoryBand.objects.filter(article=article).delete()
    with connection.cursor() as cursor:  # one statement, no model instances
        cursor.executemany(
            f"INSERT INTO {StoryBand._meta.db_table} (article_id, key) VALUES (%s, %s)",
            [(article.pk, key) for key in keys],
        )


def story_grouped(*, article: Article, print_: Fingerprint | None = None) -> Match | None:
    """The ingest hook: store a new story's band keys (and its signature,
    unless stored with it from `print_`), and put it in the group of its
    closest copy (becoming the representative when it is the earliest).
    Returns the match, or None when it is an original."""
    if print_ is None:
        print_ = fingerprint(article.text)
        Article.objects.filter(pk=article.pk).update(copy_signature=print_.signature)
    store_bands(article=article, keys=print_.band_keys, replace=False)
    match = best_match(print_, exclude=article.pk)
    if match is not None:
        _join(article=article, other_id=match.article_id, score=match.score)
    return match


def _join(*, article: Article, other_id: int, score: float) -> None:
    other = Article.objects.only("id", "copy_of_id").get(pk=other_id)
    rep = Article.objects.only("id", "published_at", "copy_by_editor").get(
        pk=other.copy_of_id or other.pk
    )
    if article.published_at < rep.published_at and not rep.copy_by_editor:
        # The new story is earlier: it represents the group from now on.
        with transaction.atomic():
            Article.objects.filter(Q(copy_of=rep) | Q(pk=rep.pk)).update(copy_of=article)
            Article.objects.filter(pk=rep.pk).update(copy_similarity=score)
            Article.objects.filter(pk=article.pk).update(copy_of=None, copy_similarity=None)
        article.copy_of_id, article.copy_similarity = None, None
    else:
        Article.objects.filter(pk=article.pk).update(copy_of=rep, copy_similarity=score)
        article.copy_of_id, article.copy_similarity = rep.pk, score


# -- editors -----------------------------------------------------------------


def group_members(representative_id: int) -> list[Article]:
    return list(
        Article.objects.filter(Q(pk=representative_id) | Q(copy_of_id=representative_id))
        .select_related("source")
        .order_by("published_at", "id")
    )


def copy_split(*, article: Article) -> list[int]:
    """An editor takes a story out of its group: it stands alone from now on
    and detection leaves it there. When it represented the group, the
    earliest remaining copy represents the rest. Returns the ids changed."""
    changed = [article.pk]
    with transaction.atomic():
        if article.copy_of_id is None:
            rest = list(
                Article.objects.filter(copy_of=article)
                .order_by("published_at", "id")
                .values_list("id", flat=True)
            )
            if rest:
                Article.objects.filter(pk__in=rest[1:]).update(copy_of_id=rest[0])
                Article.objects.filter(pk=rest[0]).update(copy_of=None, copy_similarity=None)
                changed += rest
        Article.objects.filter(pk=article.pk).update(
            copy_of=None, copy_similarity=None, copy_by_editor=True
        )
    return changed


def copies_join(*, articles: Sequence[Article], representative: Article | None = None) -> list[int]:
    """An editor groups stories (and the groups they are in) as copies of one:
    `representative`, else the earliest, represents them. Every story placed
    is marked as placed by an editor. Returns the ids changed."""
    if not articles:
        return []
    reps = {a.copy_of_id or a.pk for a in articles}
    members = list(
        Article.objects.filter(Q(pk__in=reps) | Q(copy_of_id__in=reps))
        .order_by("published_at", "id")
        .only("id", "published_at")
    )
    chosen = representative.pk if representative is not None else members[0].pk
    ids = [m.pk for m in members]
    with transaction.atomic():
        Article.objects.filter(pk__in=ids).exclude(pk=chosen).update(copy_of_id=chosen)
        Article.objects.filter(pk=chosen).update(copy_of=None, copy_similarity=None)
        Article.objects.filter(pk__in=[a.pk for a in articles] + [chosen]).update(
            copy_by_editor=True
        )
    return ids
