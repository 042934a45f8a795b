"""Property-based fuzzing of every entry point with hostile input (issue #15).

Derandomised, so a run is the same every time; the strategies and invariants
are in testkit/fuzzing.py, which bench/fuzz.py runs for much longer. A failure
found there becomes a fixed bug with a regression test (tests/articles/
test_isolation.py), not a new example here.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings

from testkit import fuzzing

pytestmark = pytest.mark.django_db


@pytest.fixture
def env(tmp_path, httpserver, client, admin_client):
    environment = fuzzing.Env(
        tmp=tmp_path,
        server_url=httpserver.url_for("").rstrip("/"),
        client=client,
        admin_client=admin_client,
    )
    httpserver.expect_request(re.compile(".*")).respond_with_handler(
        fuzzing.local_handler(environment)
    )
    environment.baseline = fuzzing.baseline_stories()
    with fuzzing.NetworkGuard().installed():
        yield environment


@pytest.mark.parametrize("name", list(fuzzing.ENTRY_POINTS))
def test_no_hostile_input_breaks_an_entry_point(name, env):
    entry = fuzzing.ENTRY_POINTS[name]
    if name == "pages":
        fuzzing.hostile_corpus(env)

    @settings(
        max_examples=entry.examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(entry.strategy)
    def check(example):
        entry.check(env, example)

    check()
