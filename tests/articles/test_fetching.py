"""articles.fetching: the SSRF guard, limits and decoding (SPEC §9 "Fetching").

Everything is served by pytest-httpserver on 127.0.0.1; the test settings
allow loopback for that, and the `no_loopback` fixture restores production's
rule.
"""

import time

import pytest
from werkzeug import Response

from articles.fetching import FetchError, decode_body, fetch_url
from tests.articles.feed_docs import HTML, article_html, gzip_bomb, serve_page

PAGE = article_html("Dam talks resume", "Engineers met in Addis Ababa on Tuesday.")


def test_fetches_a_page(httpserver):
    url = serve_page(httpserver, "/story", PAGE)

    page = fetch_url(url)

    assert page.status == 200
    assert page.final_url == url
    assert page.content_type == "text/html"
    assert "Engineers met in Addis Ababa" in page.text


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.0.0.1/", "private"),
        ("http://192.168.1.20:8080/admin", "private"),
        ("http://172.16.5.4/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://100.64.0.1/", "shared"),
        ("http://0.0.0.0:8000/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://240.0.0.1/", "reserved"),
        ("http://[fd00::1]/", "private"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[::ffff:10.0.0.1]/", "private"),
        ("http://[::ffff:169.254.169.254]/", "link-local"),
        ("http://[2002:a00:1::]/", "private"),  # 6to4 wrapping 10.0.0.1
    ],
)
def test_non_public_addresses_are_refused_even_with_loopback_allowed(url, reason):
    with pytest.raises(FetchError, match=f"refused to fetch from .*{reason}"):
        fetch_url(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://127.1.2.3:8000/", "http://[::1]/"])
def test_loopback_is_refused_unless_allowed(no_loopback, url):
    with pytest.raises(FetchError, match="loopback address"):
        fetch_url(url)


def test_loopback_setting_is_what_lets_the_test_server_through(httpserver, settings):
    url = serve_page(httpserver, "/story", PAGE)
    assert fetch_url(url).status == 200
    settings.FETCH_ALLOW_LOOPBACK = False
    with pytest.raises(FetchError, match="loopback"):
        fetch_url(url)


def test_public_name_resolving_to_loopback_is_refused(no_loopback, resolve_as, httpserver):
    serve_page(httpserver, "/story", PAGE)
    resolve_as("news.attacker.example", "127.0.0.1")

    with pytest.raises(FetchError, match=r"news\.attacker\.example \(127\.0\.0\.1\).*loopback"):
        fetch_url(f"http://news.attacker.example:{httpserver.port}/story")

    assert httpserver.log == []


def test_connects_to_the_checked_address_with_one_lookup(resolve_as, httpserver):
    """No second lookup a rebinding DNS server could answer differently: the
    connection goes to the address checked, with the name in the Host header."""
    serve_page(httpserver, "/story", PAGE)
    lookups = resolve_as("news.example.org", "127.0.0.1")

    page = fetch_url(f"http://news.example.org:{httpserver.port}/story")

    assert page.status == 200
    assert lookups == ["news.example.org"]
    request, _ = httpserver.log[0]
    assert request.headers["Host"] == f"news.example.org:{httpserver.port}"


def test_redirect_to_cloud_metadata_is_refused(httpserver):
    httpserver.expect_request("/go").respond_with_data(
        "", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )

    with pytest.raises(FetchError, match=r"169\.254\.169\.254.*link-local"):
        fetch_url(httpserver.url_for("/go"))


def test_redirect_to_a_name_resolving_to_a_private_address_is_refused(resolve_as, httpserver):
    resolve_as("intranet.example.com", "10.1.2.3")
    httpserver.expect_request("/go").respond_with_data(
        "", status=301, headers={"Location": "https://intranet.example.com/secrets"}
    )

    with pytest.raises(FetchError, match=r"intranet\.example\.com \(10\.1\.2\.3\).*private"):
        fetch_url(httpserver.url_for("/go"))


def test_redirect_to_another_scheme_is_refused(httpserver):
    httpserver.expect_request("/go").respond_with_data(
        "", status=302, headers={"Location": "file:///etc/passwd"}
    )

    with pytest.raises(FetchError, match="only http and https"):
        fetch_url(httpserver.url_for("/go"))


def test_redirects_are_followed_and_the_final_url_kept(httpserver):
    httpserver.expect_request("/old").respond_with_data(
        "", status=301, headers={"Location": "/moved"}
    )
    httpserver.expect_request("/moved").respond_with_data(
        "", status=307, headers={"Location": httpserver.url_for("/story")}
    )
    serve_page(httpserver, "/story", PAGE)

    page = fetch_url(httpserver.url_for("/old"))

    assert page.final_url == httpserver.url_for("/story")
    assert page.url == httpserver.url_for("/old")
    assert "Addis Ababa" in page.text


def test_redirect_loops_stop(httpserver):
    httpserver.expect_request("/loop").respond_with_data(
        "", status=302, headers={"Location": "/loop"}
    )

    with pytest.raises(FetchError, match="too many redirects"):
        fetch_url(httpserver.url_for("/loop"))
    assert len(httpserver.log) == 6


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_FLUSHALL",
        "ftp://ftp.example.com/file",
        "dict://127.0.0.1:11211/stats",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "//no-scheme.example.com/",
    ],
)
def test_only_http_and_https(url):
    with pytest.raises(FetchError, match="only http and https URLs are fetched"):
        fetch_url(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [("http:///nohost", "no host"), ("http://example.com:99999/", "invalid URL")],
)
def test_malformed_urls(url, message):
    with pytest.raises(FetchError, match=message):
        fetch_url(url)


def test_unresolvable_host():
    with pytest.raises(FetchError, match="cannot resolve host"):
        fetch_url("http://no-such-host.invalid/")


def test_a_20_mb_page_is_refused_by_its_declared_length(httpserver):
    serve_page(httpserver, "/big", b"<p>" + b"x" * (20 * 2**20) + b"</p>")

    with pytest.raises(FetchError, match=r"too large \(20,971,527 bytes; limit 5,000,000\)"):
        fetch_url(httpserver.url_for("/big"))


def test_a_streamed_page_without_length_is_cut_at_the_cap(httpserver, settings):
    settings.FETCH_MAX_BYTES = 1_000_000
    chunk = b"<p>" + b"y" * 65_000 + b"</p>\n"
    httpserver.expect_request("/stream").respond_with_response(
        Response((chunk for _ in range(400)), content_type=HTML)  # 26 MB, no length
    )

    with pytest.raises(FetchError, match=r"too large \(more than 1,000,000 bytes"):
        fetch_url(httpserver.url_for("/stream"))


def test_a_gzip_bomb_is_cut_at_the_cap_after_decompression(httpserver, settings):
    settings.FETCH_MAX_BYTES = 2_000_000
    body = gzip_bomb(200 * 2**20)  # ~200 KB on the wire, 200 MB inflated
    httpserver.expect_request("/bomb").respond_with_data(
        body, content_type=HTML, headers={"Content-Encoding": "gzip"}
    )

    with pytest.raises(FetchError, match="too large"):
        fetch_url(httpserver.url_for("/bomb"))


def test_gzip_pages_are_decompressed(httpserver):
    import gzip

    httpserver.expect_request("/gz").respond_with_data(
        gzip.compress(PAGE.encode()), content_type=HTML, headers={"Content-Encoding": "gzip"}
    )

    assert "Addis Ababa" in fetch_url(httpserver.url_for("/gz")).text


@pytest.mark.parametrize(
    ("content_type", "accepted"),
    [
        ("image/png", False),
        ("application/octet-stream", False),
        ("application/pdf", False),
        ("", False),
        ("text/html", True),
        ("TEXT/HTML; Charset=UTF-8", True),
        ("application/xhtml+xml", True),
    ],
)
def test_content_type_check(httpserver, content_type, accepted):
    httpserver.expect_request("/thing").respond_with_response(
        Response(PAGE.encode(), headers={"Content-Type": content_type} if content_type else {})
    )
    if content_type == "":
        # werkzeug adds a default; a response really without one:
        httpserver.clear()
        httpserver.expect_request("/thing").respond_with_handler(_no_content_type)
    if accepted:
        assert fetch_url(httpserver.url_for("/thing")).status == 200
    else:
        with pytest.raises(FetchError, match="unexpected content type"):
            fetch_url(httpserver.url_for("/thing"))


def _no_content_type(request):
    response = Response(PAGE.encode())
    del response.headers["Content-Type"]
    return response


def test_binary_served_as_html_is_refused(httpserver):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 20
    serve_page(httpserver, "/image", png)

    with pytest.raises(FetchError, match="binary content served as text/html"):
        fetch_url(httpserver.url_for("/image"))


@pytest.mark.parametrize("status", [404, 410, 500, 503], ids=lambda s: f"HTTP {s}")
def test_http_errors(httpserver, status):
    httpserver.expect_request("/gone").respond_with_data("nope", status=status)

    with pytest.raises(FetchError, match=f"HTTP {status}"):
        fetch_url(httpserver.url_for("/gone"))


def test_connection_refused_is_a_fetch_error():
    from testkit.servers import free_port

    with pytest.raises(FetchError, match="could not connect"):
        fetch_url(f"http://127.0.0.1:{free_port()}/")


def test_tls_errors_are_fetch_errors(resolve_as, httpserver):
    """https to a plain-HTTP server: the TLS handshake fails, cleanly."""
    resolve_as("secure.example.org", "127.0.0.1")
    serve_page(httpserver, "/", PAGE)

    with pytest.raises(FetchError, match=r"secure\.example\.org"):
        fetch_url(f"https://secure.example.org:{httpserver.port}/")


def test_an_overall_deadline_not_just_a_read_timeout(httpserver, settings):
    """A server dripping bytes never trips a read timeout; the deadline stops it."""
    settings.FETCH_TIMEOUT_SECONDS = 1.0

    def drip():
        yield b"<html><body>"
        for _ in range(30):
            time.sleep(0.1)
            yield b"<p>drip</p>"

    httpserver.expect_request("/drip").respond_with_response(Response(drip(), content_type=HTML))
    started = time.monotonic()

    with pytest.raises(FetchError, match="timed out"):
        fetch_url(httpserver.url_for("/drip"))
    assert time.monotonic() - started < 2.0


def test_conditional_get_304(httpserver):
    httpserver.expect_request("/feed", headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304, headers={"ETag": '"v1"'}
    )

    page = fetch_url(httpserver.url_for("/feed"), etag='"v1"', last_modified="Tue, 04 Feb 2025")

    assert (page.status, page.content, page.etag) == (304, b"", '"v1"')
    request, _ = httpserver.log[0]
    assert request.headers["If-Modified-Since"] == "Tue, 04 Feb 2025"


# --- decoding -----------------------------------------------------------------------

FRENCH = (
    "Le café était fermé à Montréal, où l'hiver dure longtemps. Les élèves sont allés à "
    "l'école près de la rivière, malgré la neige épaisse et le froid glacial de février."
)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/html; charset=utf-8", f"<p>{FRENCH}</p>".encode("latin-1")),  # declared wrong
        ("text/html", f"<p>{FRENCH}</p>".encode("latin-1")),  # not declared
        ("text/html; charset=utf-8", "<p>Le café.</p>".encode("latin-1")),  # short, wrong
        ("text/html; charset=iso-8859-1", f"<p>{FRENCH}</p>".encode()),  # UTF-8 as latin-1
        ("text/html; charset=klingon", f"<p>{FRENCH}</p>".encode()),  # unknown charset
        ("text/html; charset=rot13", f"<p>{FRENCH}</p>".encode()),  # not a text codec
        ("text/html", f'<meta charset="windows-1252"><p>{FRENCH}</p>'.encode("cp1252")),
        ("text/html", b"\xef\xbb\xbf" + f"<p>{FRENCH}</p>".encode()),  # BOM
        ("text/html", f"<p>{FRENCH}</p>".encode("utf-16")),  # UTF-16 with BOM
    ],
    ids=[
        "latin1-declared-utf8",
        "latin1-undeclared",
        "latin1-short-declared-utf8",
        "utf8-declared-latin1",
        "unknown-charset",
        "rot13-charset",
        "meta-charset",
        "utf8-bom",
        "utf16-bom",
    ],
)
def test_decoding_survives_wrong_or_missing_charsets(httpserver, content_type, body):
    httpserver.expect_request("/fr").respond_with_response(
        Response(body, headers={"Content-Type": content_type})
    )

    text = fetch_url(httpserver.url_for("/fr")).text

    assert "café" in text
    assert "\ufffd" not in text


def test_undecodable_bytes_become_replacement_characters():
    assert decode_body(b"\x81\x8d\x8f\x90\x9d ok", declared="utf-8").endswith(" ok")


def test_cyrillic_without_a_charset_is_detected():
    text = (
        "Москва — столица России, крупнейший по численности населения город страны. "
        "Город расположен на реке Москве."
    )
    assert decode_body(f"<p>{text}</p>".encode("cp1251")) == f"<p>{text}</p>"


# --- https: connect to the checked address, verify the certificate by name ----------


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    """An HTTPS server for secure.example.org, with a throwaway CA (openssl CLI)."""
    import shutil
    import ssl
    import subprocess

    from pytest_httpserver import HTTPServer

    if not shutil.which("openssl"):
        pytest.skip("openssl CLI not installed")
    d = tmp_path_factory.mktemp("tls")

    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    openssl(
        *("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
        *("-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=newsgraph test CA"),
        *("-addext", "basicConstraints=critical,CA:TRUE"),
        *("-addext", "keyUsage=critical,keyCertSign,cRLSign"),
    )
    openssl(
        *("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr"),
        *("-subj", "/CN=secure.example.org"),
    )
    (d / "leaf.ext").write_text(
        "subjectAltName=DNS:secure.example.org\nbasicConstraints=CA:FALSE\n"
        "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
        "authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n"
    )
    openssl(
        *("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key"),
        *("-CAcreateserial", "-out", "leaf.pem", "-days", "2", "-extfile", "leaf.ext"),
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(d / "leaf.pem", d / "leaf.key")
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    yield server, d / "ca.pem"
    server.clear()
    server.stop()


def test_https_connects_to_the_checked_address_and_verifies_the_name(
    tls_server, resolve_as, monkeypatch
):
    server, ca = tls_server
    server.clear()
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # trust the throwaway CA
    server.expect_request("/story").respond_with_data(PAGE, content_type=HTML)
    lookups = resolve_as("secure.example.org", "127.0.0.1")

    page = fetch_url(f"https://secure.example.org:{server.port}/story")

    assert "Addis Ababa" in page.text
    assert lookups == ["secure.example.org"]
    assert server.log[0][0].headers["Host"] == f"secure.example.org:{server.port}"


def test_https_certificate_for_another_name_is_refused(tls_server, resolve_as, monkeypatch):
    server, ca = tls_server
    server.clear()
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    server.expect_request("/story").respond_with_data(PAGE, content_type=HTML)
    resolve_as("impostor.example.org", "127.0.0.1")

    with pytest.raises(FetchError, match=r"TLS error with impostor\.example\.org: .*match 'secure"):
        fetch_url(f"https://impostor.example.org:{server.port}/story")
    assert server.log == []
