"""The page cache's versions: a bump or a lost version key never serves old entries."""

from __future__ import annotations

from django.core.cache import caches

from newsgraph.infra import pagecache


def test_a_bump_makes_entries_stale():
    computed = iter(["first", "second"])
    assert pagecache.cached(pagecache.CORPUS, "k", lambda: next(computed), timeout=60) == "first"
    assert pagecache.cached(pagecache.CORPUS, "k", lambda: "unused", timeout=60) == "first"
    pagecache.bump(pagecache.CORPUS)
    assert pagecache.cached(pagecache.CORPUS, "k", lambda: next(computed), timeout=60) == "second"


def test_an_evicted_version_does_not_bring_old_entries_back():
    pagecache.cached(pagecache.CORPUS, "k", lambda: "old", timeout=60)
    caches["pages"].delete(f"version:{pagecache.CORPUS}")  # as a full cache evicts it
    assert pagecache.cached(pagecache.CORPUS, "k", lambda: "new", timeout=60) == "new"


def test_versions_are_independent():
    pagecache.cached(pagecache.ENTITY_PROFILES, "k", lambda: "profile", timeout=60)
    pagecache.bump(pagecache.CORPUS)
    assert (
        pagecache.cached(pagecache.ENTITY_PROFILES, "k", lambda: "unused", timeout=60) == "profile"
    )
