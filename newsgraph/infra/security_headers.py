"""Response headers that limit what a page may do in the reader's browser: a
strict Content-Security-Policy (scripts and styles only from our own static
files, nothing inline) and a Permissions-Policy, on every response
(docs/SECURITY.md, issue 25).

Referrer-Policy, Cross-Origin-Opener-Policy and X-Content-Type-Options come
from Django's SecurityMiddleware (SECURE_REFERRER_POLICY,
SECURE_CROSS_ORIGIN_OPENER_POLICY, SECURE_CONTENT_TYPE_NOSNIFF).

The policies are settings: CONTENT_SECURITY_POLICY (directive -> sources),
CONTENT_SECURITY_POLICY_PATHS (a path prefix -> its own policy, e.g. the
Swagger UI at /api/docs/), CONTENT_SECURITY_POLICY_REPORT_URI (optional) and
PERMISSIONS_POLICY (feature -> allow-list). A response that already carries
a policy (set by its view) keeps it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def policy_header(directives: Mapping[str, Sequence[str]], *, report_uri: str = "") -> str:
    """`{"script-src": ["'self'"]}` -> "script-src 'self'"; an empty source
    list gives a directive alone ("upgrade-insecure-requests")."""
    parts = [" ".join([name, *sources]) for name, sources in directives.items()]
    if report_uri:
        parts.append(f"report-uri {report_uri}")
    return "; ".join(parts)


def permissions_header(features: Mapping[str, Sequence[str]]) -> str:
    """`{"camera": []}` -> "camera=()"."""
    return ", ".join(f"{name}=({' '.join(allowed)})" for name, allowed in features.items())


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        report_uri = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_URI", "")
        self.policy = policy_header(settings.CONTENT_SECURITY_POLICY, report_uri=report_uri)
        paths = getattr(settings, "CONTENT_SECURITY_POLICY_PATHS", {})
        # Longest prefix first, so the most specific path's policy wins.
        self.path_policies = [
            (prefix, policy_header(directives, report_uri=report_uri))
            for prefix, directives in sorted(paths.items(), key=lambda item: -len(item[0]))
        ]
        self.permissions = permissions_header(getattr(settings, "PERMISSIONS_POLICY", {}))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = self.policy_for(request.path_info)
        if self.permissions and "Permissions-Policy" not in response.headers:
            response.headers["Permissions-Policy"] = self.permissions
        return response

    def policy_for(self, path: str) -> str:
        for prefix, policy in self.path_policies:
            if path.startswith(prefix):
                return policy
        return self.policy
