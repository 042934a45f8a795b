import pytest

from articles.urls_util import InvalidURL, breadcrumb, canonical_url


class TestBreadcrumb:
    def test_host_and_path_segments(self):
        url = "https://www.theatlantic.com/international/archive/2025/02/iraq-leaving-irans-axis/681825/"
        assert breadcrumb(url) == (
            "www.theatlantic.com › international › archive › 2025 › 02"
            " › iraq-leaving-irans-axis › 681825"
        )

    def test_no_scheme_query_or_fragment(self):
        crumb = breadcrumb("http://example.com/world/story?utm_source=x&id=3#comments")
        assert crumb == "example.com › world › story"

    def test_empty_segments_and_trailing_slash_dropped(self):
        assert breadcrumb("https://example.com//world///story//") == "example.com › world › story"

    def test_host_only(self):
        assert breadcrumb("https://example.com/") == "example.com"
        assert breadcrumb("https://example.com") == "example.com"

    def test_long_segment_shortened_with_ellipsis(self):
        slug = "a-very-long-slug-" * 6
        crumb = breadcrumb(f"https://example.com/news/{slug}")
        host, news, short = crumb.split(" › ")
        assert (host, news) == ("example.com", "news")
        assert short.endswith("…")
        assert len(short) < len(slug)
        assert slug.startswith(short[:-1])

    def test_short_segment_kept_whole(self):
        assert breadcrumb("https://example.com/a-short-slug") == "example.com › a-short-slug"

    def test_port_not_shown(self):
        assert breadcrumb("https://example.com:8443/world") == "example.com › world"

    def test_percent_encoded_segments_are_readable(self):
        assert breadcrumb("https://example.com/caf%C3%A9/%20/") == "example.com › café"

    def test_garbage_does_not_raise(self):
        assert breadcrumb("") == ""
        assert breadcrumb("http://[::1") == ""


class TestCanonicalURL:
    @pytest.mark.parametrize(
        "url",
        [
            "https://example.com/story?utm_source=rss&utm_medium=feed&utm_campaign=x",
            "https://example.com/story?fbclid=abc",
            "https://example.com/story?gclid=abc&ref=home",
            "https://example.com/story#comments",
            "https://EXAMPLE.com/story/",
            "HTTPS://example.com:443/story",
            "  https://example.com/story  ",
            "https://example.com./story",
        ],
    )
    def test_one_spelling_per_story(self, url):
        assert canonical_url(url) == "https://example.com/story"

    def test_meaningful_query_kept_and_sorted(self):
        assert (
            canonical_url("https://example.com/story?page=2&id=7&utm_source=x")
            == "https://example.com/story?id=7&page=2"
        )

    def test_path_case_kept(self):
        assert canonical_url("https://example.com/World/Story") == "https://example.com/World/Story"

    def test_non_default_port_kept(self):
        assert canonical_url("https://example.com:8443/story") == "https://example.com:8443/story"

    def test_default_port_of_the_other_scheme_is_not_dropped(self):
        assert canonical_url("http://example.com:443/story") == "http://example.com:443/story"

    def test_root_path(self):
        assert canonical_url("https://example.com") == "https://example.com/"

    def test_ipv6_host(self):
        assert canonical_url("http://[::1]:8080/x/") == "http://[::1]:8080/x"

    @pytest.mark.parametrize(
        "url",
        [
            "",
            "example.com/story",
            "ftp://example.com/story",
            "javascript:alert(1)",
            "https:///story",
            "https://example.com:99999/story",
            "http://[::1/story",
        ],
    )
    def test_invalid_urls_raise_invalid_url(self, url):
        with pytest.raises(InvalidURL):
            canonical_url(url)
