"""Real-browser tests: headless Debian Chromium driven by Playwright against
pytest-django's live server. Nothing leaves 127.0.0.1: every other request
is aborted.

Locally a missing Chromium or Playwright skips these tests; under CI=true it
is a failure (as for the integration servers).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.servers.basehttp import WSGIServer
from django.test.testcases import LiveServerThread


class OneRequestAtATime(WSGIServer):
    """The live server answers one request at a time. On SQLite its threads
    share the test's in-memory connection, and a query that calls back into
    Python (the REGEXP of name-word search) while another request thread waits
    for that connection deadlocks both (seen: a page and its suggestions hung
    the suite). Not threaded, Django closes each connection after its answer,
    so the browser's other requests wait their turn."""

    def __init__(self, *args, connections_override=None, **kwargs):
        # LiveServerThread.run already installed the overrides in its thread,
        # which is where every request now runs.
        super().__init__(*args, **kwargs)


LiveServerThread.server_class = OneRequestAtATime

# Playwright's sync API runs an event loop in this thread; the live server
# and the ORM calls of the test itself are synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def unavailable(reason: str) -> None:
    """Skip locally; under CI a missing browser is a failure, never a skip."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -r requirements-dev.txt)")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        unavailable(f"no Chromium at {CHROMIUM}: install the Debian package 'chromium'")
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception as exc:  # any launch failure means "no browser here"
            unavailable(f"Chromium did not start: {exc}")
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(15_000)
    context.route("**/*", _local_only)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    yield page
    context.close()


@pytest.fixture
def page_without_js(browser, live_server):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    context.set_default_timeout(15_000)
    context.route("**/*", _local_only)
    yield context.new_page()
    context.close()


def _local_only(route):
    host = urlsplit(route.request.url).hostname or ""
    if host in LOCAL_HOSTS:
        route.continue_()
    else:
        route.abort()


@pytest.fixture
def screenshot():
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def axe_check():
    """Run axe-core in the page; fail on any serious or critical violation."""
    source = AXE.read_text()

    def check(page, what: str) -> list[dict]:
        # Evaluated through the DevTools protocol: a <script> tag with the
        # source inlined would be blocked by the content security policy.
        page.evaluate(source)
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        violations = [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n["target"] for n in v["nodes"]][:5],
            }
            for v in result["violations"]
        ]
        ARTIFACTS.mkdir(exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", what.lower()).strip("-")
        (ARTIFACTS / f"axe-{slug}.json").write_text(json.dumps(violations, indent=2))
        bad = [v for v in violations if v["impact"] in {"serious", "critical"}]
        assert not bad, f"axe found serious/critical violations on the {what} page: {bad}"
        return violations

    return check
