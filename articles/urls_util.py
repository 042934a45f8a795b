"""URL canonicalisation and the breadcrumb shown under each result."""

from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = {"fbclid", "gclid", "mc_cid", "mc_eid", "ref", "cmpid", "ocid"}
SEGMENT_MAX = 40
SEPARATOR = " › "
DEFAULT_PORTS = {"http": 80, "https": 443}


class InvalidURL(ValueError):
    pass


def canonical_url(url: str) -> str:
    """One spelling per story: lower-case scheme and host, no fragment, no
    tracking parameters, sorted query, no default port, no trailing slash."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # "Port out of range", bad IPv6 brackets
        raise InvalidURL(f"not a valid URL: {url[:200]!r} ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise InvalidURL(f"not an http(s) URL: {url[:200]!r}")
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS
    )
    path = parts.path or "/"
    if len(path) > 1:
        path = path.rstrip("/")
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


def _shorten(segment: str) -> str:
    return segment if len(segment) <= SEGMENT_MAX else segment[: SEGMENT_MAX - 1] + "…"


def breadcrumb(url: str) -> str:
    """`www.example.com › world › 2025 › 02 › slug`: host and non-empty path
    segments; no scheme, query or trailing slash; long segments shortened."""
    try:
        parts = urlsplit((url or "").strip())
    except ValueError:
        return ""
    host = parts.hostname or ""
    decoded = (unquote(s).strip() for s in parts.path.split("/"))
    segments = [_shorten(s) for s in decoded if s]
    return SEPARATOR.join([host, *segments]) if host else SEPARATOR.join(segments)
