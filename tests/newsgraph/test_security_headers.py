"""Security headers on every response (issue 25): a strict content security
policy (nothing inline, our own origin only), Swagger's own policy at
/api/docs/, Referrer-Policy, Permissions-Policy, Cross-Origin-Opener-Policy."""

import pytest

from newsgraph.infra.security_headers import permissions_header, policy_header

pytestmark = pytest.mark.django_db


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


@pytest.mark.parametrize(
    "path",
    ["/", "/?q=Iran", "/api/search/?q=Iran", "/api/openapi.json", "/admin/login/", "/health/"],
)
def test_every_page_carries_the_strict_policy(client, path):
    response = client.get(path)

    assert response.status_code == 200
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'none'"]
    for directive in ("script-src", "style-src", "img-src", "connect-src"):
        assert policy[directive] == ["'self'"], directive
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "geolocation=()" in response.headers["Permissions-Policy"]


@pytest.mark.parametrize("path", ["/", "/?q=Iran", "/health/"])
def test_a_head_request_answers_with_the_headers(client, path):
    """`curl -I` shows what a page sends: HEAD is answered like GET, without a body."""
    response = client.head(path)

    assert response.status_code == 200
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.content == b""


def test_the_pages_have_no_inline_script_or_style(client):
    body = client.get("/?q=Iran").content.decode()
    assert "<script src=" in body
    assert "<script>" not in body and "<style" not in body and " style=" not in body


def test_swagger_gets_its_own_policy_with_scripts_still_our_own(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert b"cdn" not in response.content.lower()  # ninja's bundled copy, no CDN


def test_a_report_uri_is_appended_when_set(settings, client):
    settings.CONTENT_SECURITY_POLICY_REPORT_URI = "https://reports.example/csp"
    header = client.get("/health/").headers["Content-Security-Policy"]
    assert header.endswith("; report-uri https://reports.example/csp")


def test_header_spelling():
    assert policy_header({"a": ["'self'", "x"], "b": []}) == "a 'self' x; b"
    assert permissions_header({"camera": [], "fullscreen": ["self"]}) == (
        "camera=(), fullscreen=(self)"
    )
