"""The content security policy in headless Chromium (issue 25): the pages,
the suggestions, the chart and the Swagger UI work with no violation
reported, and a script inlined into a page, as an escaping bug would, does
not run."""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs through the DevTools protocol before any page script, so the policy
# does not apply to it; it hands every violation to the test, on every page
# the test visits.
WATCH = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportViolation(`${event.violatedDirective} ${event.blockedURI} ${location.pathname}`);
});
"""


@pytest.fixture
def watched(page):
    reported: list[str] = []
    page.expose_function("reportViolation", lambda text: reported.append(text))
    page.add_init_script(WATCH)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.csp_reported, page.csp_console = reported, console
    return page


def violations(page) -> list[str]:
    """Every violation reported since the test began, by the page's event and
    on the console."""
    logged = [text for text in page.csp_console if "Content Security Policy" in text]
    return [*page.csp_reported, *logged]


STORIES = [
    (
        "Iraq's prime minister visits Tehran",
        "Mohammed al-Sudani, the prime minister of Iraq, arrived in Tehran on Monday for talks "
        "with Iranian officials about trade and security with Iran.",
        "2025-01-13T09:00:00Z",
    ),
    (
        "Iran and Iraq sign an electricity deal",
        "Iran will keep exporting gas to Iraq under a deal signed in Baghdad, the oil minister "
        "said.\n\nOfficials in Tehran said the agreement would last two years.",
        "2025-02-04T09:00:00Z",
    ),
    (
        "Sanctions talks resume in Vienna",
        "Diplomats from Iran and the European Union met in Vienna on Thursday.\n\n"
        "The talks on sanctions against Iran will continue next month in Geneva.",
        "2025-02-20T09:00:00Z",
    ),
]


@pytest.fixture
def corpus(ingest_story):
    stories = [
        ingest_story(title, text, published_at=published, source="Example News")
        for title, text, published in STORIES
    ]
    return stories[-1].pk


def test_pages_suggestions_and_chart_work_with_no_violation(watched, live_server, corpus):
    page = watched
    story_id = corpus
    url = live_server.url

    page.goto(f"{url}/?q=Iran")
    assert page.locator("article.story").count() >= 1
    policy = page.evaluate(
        "async () => (await fetch(location.href)).headers.get('content-security-policy')"
    )
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy

    # Suggestions: the script (a static file) runs and fetch() reaches our API.
    page.fill("#q", "")
    page.locator("#q").press_sequentially("Ira", delay=30)
    options = page.locator("#q-suggestions [role=option]")
    options.first.wait_for()
    assert options.filter(has_text="Iraq").count() == 1

    options.filter(has_text="Iraq").click()
    page.wait_for_url(re.compile(r"q=Iraq"))
    page.locator(".entity-card a").first.click()
    page.wait_for_url(re.compile(r"/entities/[-\w]+/$"))
    chart = page.locator("svg.chart")
    assert chart.is_visible()
    assert chart.locator("rect").count() >= 2
    box = chart.bounding_box()
    assert box["width"] > 200 and box["height"] > 80  # styled by the stylesheet, not inline

    page.goto(f"{url}/articles/{story_id}/")
    assert page.locator("h1").is_visible()

    assert violations(page) == []


def test_the_admin_works_with_no_violation(watched, live_server, corpus, django_user_model):
    page = watched
    url = live_server.url
    django_user_model.objects.create_superuser("chief", "chief@example.com", "correct horse")
    page.goto(f"{url}/admin/login/?next=/admin/")
    page.fill("#id_username", "chief")
    page.fill("#id_password", "correct horse")
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))

    page.goto(f"{url}/admin/entities/entity/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() >= 2
    # The actions bar's script (admin/js/actions.js) runs: ticking a row counts it.
    rows.first.locator("input.action-select").check()
    assert "1 of" in page.locator(".action-counter").inner_text()
    rows.first.locator("th a").click()
    page.wait_for_url(re.compile(r"/admin/entities/entity/\d+/change/"))
    assert page.locator("#id_name").is_visible()
    page.goto(f"{url}/admin/articles/article/")
    assert page.locator("#result_list").is_visible()

    assert violations(page) == []


def test_swagger_ui_works_under_its_own_policy(watched, live_server):
    page = watched
    page.goto(f"{live_server.url}/api/docs/")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "newsgraph" in page.locator(".swagger-ui .info .title").inner_text().lower()
    page.locator(".opblock").first.wait_for()
    assert violations(page) == []


@pytest.mark.urls("tests.browser.csp_urls")
def test_an_injected_inline_script_and_style_are_blocked(watched, live_server):
    page = watched
    page.goto(f"{live_server.url}/csp-probe/")
    page.locator("#probe").wait_for()
    page.wait_for_timeout(200)  # let the img's onerror fire, if it could

    assert page.evaluate("window.injectedRan") is None
    assert page.title() == "probe"
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background != "rgb(255, 0, 0)"
    blocked = " ".join(page.csp_reported)
    assert re.search(r"script-src(-elem)? inline", blocked), blocked
    assert re.search(r"script-src(-attr)? inline", blocked), blocked
    assert re.search(r"style-src(-elem)? inline", blocked), blocked
