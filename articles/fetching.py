"""Fetching a URL from user or feed input without being a proxy into our network.
Kept whole (over 400 lines): each hop's checks and the connection pinned to the
address checked are audited together.

Every hop of a request (the URL and each redirect) is checked the same way:
http(s) only, the host resolved once with getaddrinfo, every address it
resolves to must be public by our own table of special-purpose ranges
(articles/addresses.py), and the connection goes to *that* address (with
the name in the Host header and in TLS SNI and certificate checks), so a
second lookup cannot be answered differently (DNS rebinding). The body is
streamed with a cap counted after decompression and an overall deadline.
See SPEC §9 "Fetching".
"""

from __future__ import annotations

import codecs
import ipaddress
import re
import socket
import time
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, SSLError
from urllib3.exceptions import HTTPError as Urllib3Error

from articles.addresses import address_refusal

ALLOWED_SCHEMES = frozenset({"http", "https"})
HTML_TYPES = ("text/html", "application/xhtml+xml")
MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK_BYTES = 64 * 1024
USER_AGENT = "newsgraph/0.1 (news entity index)"

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([a-zA-Z0-9_.:-]+)["']""")


class FetchError(Exception):
    """A URL that was not fetched, with a message an editor can act on."""


@dataclass(frozen=True)
class FetchResult:
    url: str
    final_url: str
    status: int  # 200 (or another 2xx), or 304 for a conditional GET
    content: bytes
    content_type: str = ""  # media type only, lower-case
    charset: str = ""  # as declared in Content-Type, if at all
    etag: str = ""
    last_modified: str = ""

    @cached_property
    def text(self) -> str:
        return decode_body(self.content, declared=self.charset)


def fetch_url(
    url: str,
    *,
    accept: tuple[str, ...] = HTML_TYPES,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int | None = None,
    timeout: float | None = None,
) -> FetchResult:
    """GET `url`, following at most MAX_REDIRECTS redirects, each hop checked.

    Raises FetchError for a refused address or scheme, a network failure, an
    HTTP error status, a body over `max_bytes` (after decompression), an
    unacceptable Content-Type, binary content, or the deadline passing.
    """
    max_bytes = max_bytes or settings.FETCH_MAX_BYTES
    timeout = timeout or settings.FETCH_TIMEOUT_SECONDS
    deadline = time.monotonic() + timeout
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": ", ".join([*accept, "*/*;q=0.1"]),
        **urllib3.util.make_headers(accept_encoding=True),
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified

    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        response = _request(current, headers=headers, deadline=deadline, timeout=timeout)
        try:
            if response.status in REDIRECT_STATUSES:
                location = response.headers.get("Location")
                if not location:
                    raise FetchError(f"HTTP {response.status} redirect without a Location")
                # The next hop is checked like the first one by _request.
                current = urljoin(current, location.strip())
                continue
            return _read_result(
                response,
                url=url,
                final_url=current,
                accept=accept,
                max_bytes=max_bytes,
                deadline=deadline,
            )
        finally:
            # Close rather than drain: an unread body may be huge.
            response.close()
    raise FetchError(f"too many redirects (more than {MAX_REDIRECTS})")


# --- one hop -------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # ASCII (IDNA) host name or IP literal, without brackets
    port: int
    path: str  # path and query, as sent in the request line

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def _parse(url: str) -> _Target:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:  # e.g. a port out of range or a bad IPv6 literal
        raise FetchError(f"invalid URL {url[:200]!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        shown = f"{scheme}://" if scheme else "no scheme"
        raise FetchError(f"only http and https URLs are fetched, not {shown} ({url[:200]!r})")
    if not parts.hostname:
        raise FetchError(f"the URL has no host: {url[:200]!r}")
    try:
        host = parts.hostname.rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        raise FetchError(f"invalid host name {parts.hostname[:100]!r}") from None
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return _Target(scheme, host, port or (443 if scheme == "https" else 80), path)


def refusal_reason(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """Why an address may not be fetched from, or "" if it may: our own table
    of special-purpose ranges (articles/addresses.py), never the interpreter's
    flags, which differ between Python patch releases."""
    return address_refusal(address, allow_loopback=settings.FETCH_ALLOW_LOOPBACK)


def resolve_public(host: str, port: int) -> list[str]:
    """Addresses of `host`, all of them public; FetchError otherwise.

    All, not any: a name that also resolves to an internal address is refused,
    since the connection could land on either.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve host {host!r}: {exc}") from None
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        text = str(sockaddr[0]).split("%", 1)[0]  # drop an IPv6 zone id
        address = ipaddress.ip_address(text)
        reason = refusal_reason(address)
        if reason:
            shown = host if host == text else f"{host} ({text})"
            raise FetchError(f"refused to fetch from {shown}: {reason}")
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise FetchError(f"cannot resolve host {host!r}")
    return addresses


def _remaining(deadline: float, url: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError(f"timed out fetching {url[:200]}")
    return left


def _request(
    url: str, *, headers: dict[str, str], deadline: float, timeout: float
) -> urllib3.BaseHTTPResponse:
    target = _parse(url)
    addresses = resolve_public(target.host, target.port)
    last_error: Exception | None = None
    for address in addresses:
        left = _remaining(deadline, url)
        pool_timeout = urllib3.Timeout(connect=min(timeout, left, 10.0), read=min(timeout, left))
        if target.scheme == "https":
            # Connect to the checked address; SNI and the certificate are still
            # checked against the name.
            pool = urllib3.HTTPSConnectionPool(
                address,
                target.port,
                timeout=pool_timeout,
                maxsize=1,
                retries=False,
                server_hostname=target.host,
                assert_hostname=target.host,
                cert_reqs="CERT_REQUIRED",
            )
        else:
            pool = urllib3.HTTPConnectionPool(
                address, target.port, timeout=pool_timeout, maxsize=1, retries=False
            )
        try:
            return pool.urlopen(
                "GET",
                target.path,
                headers={**headers, "Host": target.host_header},
                redirect=False,
                retries=False,
                preload_content=False,
                decode_content=True,
                assert_same_host=False,
            )
        except SSLError as exc:
            raise FetchError(f"TLS error with {target.host}: {exc}") from None
        except (NewConnectionError, ConnectTimeoutError) as exc:
            last_error = exc  # try the host's next address
        except Urllib3Error as exc:
            raise FetchError(f"could not fetch {url[:200]}: {_describe(exc)}") from None
        except OSError as exc:
            raise FetchError(f"could not fetch {url[:200]}: {exc}") from None
    raise FetchError(f"could not connect to {target.host_header}: {_describe(last_error)}")


def _describe(exc: Exception | None) -> str:
    reason = getattr(exc, "reason", None) or exc
    return str(reason).split(": ", 1)[-1] if reason else "unknown error"


def _media_type(value: str) -> tuple[str, str]:
    """(media type, charset) of a Content-Type header."""
    media, *params = (value or "").split(";")
    charset = ""
    for param in params:
        name, _, val = param.partition("=")
        if name.strip().lower() == "charset":
            charset = val.strip().strip("\"'").lower()
    return media.strip().lower(), charset


def _read_result(
    response: urllib3.BaseHTTPResponse,
    *,
    url: str,
    final_url: str,
    accept: tuple[str, ...],
    max_bytes: int,
    deadline: float,
) -> FetchResult:
    validators = {
        "etag": response.headers.get("ETag", "")[:500],
        "last_modified": response.headers.get("Last-Modified", "")[:100],
    }
    if response.status == 304:
        return FetchResult(url, final_url, 304, b"", **validators)
    if not 200 <= response.status < 300:
        raise FetchError(f"HTTP {response.status} {response.reason or ''}".rstrip())
    media_type, charset = _media_type(response.headers.get("Content-Type", ""))
    if media_type not in accept:
        shown = media_type or "none"
        raise FetchError(f"unexpected content type {shown!r} (expected {', '.join(accept)})")
    declared = response.headers.get("Content-Length", "")
    if (
        declared.isdigit()
        and int(declared) > max_bytes
        and not response.headers.get("Content-Encoding")
    ):
        raise FetchError(_too_large(int(declared), max_bytes))

    body = bytearray()
    try:
        while True:
            _remaining(deadline, final_url)
            # read1 returns what one socket read gives, so the deadline is
            # checked between reads, and at most CHUNK_BYTES of decompressed
            # data, so a compression bomb is stopped at the cap.
            chunk = response.read1(CHUNK_BYTES)
            if not chunk:
                break
            body += chunk
            if len(body) > max_bytes:
                raise FetchError(_too_large(None, max_bytes))
    except Urllib3Error as exc:
        raise FetchError(f"could not read {final_url[:200]}: {_describe(exc)}") from None
    except OSError as exc:
        raise FetchError(f"could not read {final_url[:200]}: {exc}") from None
    content = bytes(body)
    if _looks_binary(content, charset=charset):
        raise FetchError(f"binary content served as {media_type}; not a text document")
    return FetchResult(url, final_url, response.status, content, media_type, charset, **validators)


def _too_large(size: int | None, limit: int) -> str:
    got = f"{size:,} bytes" if size is not None else f"more than {limit:,} bytes"
    return f"the response is too large ({got}; limit {limit:,})"


def _looks_binary(content: bytes, *, charset: str) -> bool:
    """NUL bytes in the head of a document mean an image or archive, not text
    (UTF-16 and UTF-32 text, which has them, has a BOM, starts as XML
    Appendix F describes, or says so)."""
    head = content[:4096]
    if unicode_signature(head) or _codec(charset).startswith(("utf-16", "utf-32")):
        return False
    return b"\x00" in head


# XML 1.0 Appendix F.1: a byte order mark, else how "<" (or "<?xm") is spelt
# in the first four bytes. UTF-32's marks first: FF FE 00 00 begins like
# UTF-16LE's. (The unusual UCS-4 orders 2143 and 3412 have no Python codec.)
_SIGNATURES = (
    (codecs.BOM_UTF32_BE, "utf-32-be", len(codecs.BOM_UTF32_BE)),
    (codecs.BOM_UTF32_LE, "utf-32-le", len(codecs.BOM_UTF32_LE)),
    (codecs.BOM_UTF8, "utf-8", len(codecs.BOM_UTF8)),
    (codecs.BOM_UTF16_BE, "utf-16-be", len(codecs.BOM_UTF16_BE)),
    (codecs.BOM_UTF16_LE, "utf-16-le", len(codecs.BOM_UTF16_LE)),
    (b"\x00\x00\x00<", "utf-32-be", 0),
    (b"<\x00\x00\x00", "utf-32-le", 0),
    (b"\x00<\x00?", "utf-16-be", 0),
    (b"<\x00?\x00", "utf-16-le", 0),
)


def unicode_signature(content: bytes) -> tuple[str, int] | None:
    """(encoding, length of the byte order mark) of a document that starts
    with a BOM or, without one, with "<" in UTF-16 or UTF-32, as XML 1.0
    Appendix F detects them; None for anything else (ASCII-compatible bytes,
    whose declaration or charset decides)."""
    for signature, encoding, bom in _SIGNATURES:
        if content.startswith(signature):
            return encoding, bom
    return None


# --- decoding --------------------------------------------------------------------


def _codec(name: str | bytes | None) -> str:
    if isinstance(name, bytes):
        name = name.decode("ascii", "ignore")
    try:
        return codecs.lookup(name or "").name
    except LookupError:
        return ""


def decode_body(content: bytes, *, declared: str = "") -> str:
    """Text of a response that survives wrong or missing charsets.

    A BOM (or a UTF-16/32 start XML Appendix F recognises) wins; then UTF-8
    if the bytes are valid UTF-8 (text in a legacy charset almost never is,
    while "charset=iso-8859-1" on UTF-8 pages is a common misdeclaration);
    then the declared charset, then the document's own declaration, each
    only if the bytes really decode in it; then detection,
    with U+FFFD for what does not decode.
    """
    signature = unicode_signature(content)
    if signature:
        encoding, bom = signature
        return content[bom:].decode(encoding, errors="replace")
    head = content[:4096]
    in_document = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    candidates = ["utf-8", _codec(declared), _codec(in_document.group(1) if in_document else None)]
    if candidates[1].startswith("utf-16") or candidates[1].startswith("utf-32"):
        candidates.insert(0, candidates.pop(1))
    for encoding in candidates:
        if not encoding:
            continue
        try:
            return content.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return _decode_detected(content)


# The legacy charsets web pages actually use: detection among all of Python's
# codecs picks exotic ones (mac_latin2, utf_16_be) for short Western text.
_WEB_CHARSETS = [
    *("cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257"),
    *("cp1258", "koi8_r", "koi8_u", "iso8859_2", "iso8859_5", "iso8859_7", "iso8859_15"),
    *("shift_jis", "euc_jp", "iso2022_jp", "gb18030", "big5", "euc_kr", "cp874"),
]


def _decode_detected(content: bytes) -> str:
    from charset_normalizer import from_bytes

    matches = list(from_bytes(content[:200_000], cp_isolation=_WEB_CHARSETS))
    if not matches:
        return content.decode("cp1252", errors="replace")
    best = matches[0]
    # Short text fits several charsets equally well; then windows-1252, the
    # web's usual unlabelled legacy charset (as browsers default to), wins.
    for match in matches:
        if match.encoding == "cp1252" and match.chaos <= best.chaos + 0.05:
            best = match
    return content.decode(best.encoding, errors="replace")
