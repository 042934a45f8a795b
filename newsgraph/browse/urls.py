"""URLs of the pages. Two lists keep the namespaces templates reverse:
"articles:…" for search and stories, "entities:…" for entity pages."""

from django.urls import path

from newsgraph.browse import views

story_urls = (
    [
        path("", views.search, name="search"),
        path("search/", views.search, name="search-alt"),
        path("articles/<int:article_id>/", views.article_detail, name="detail"),
        path("suggest/", views.suggest, name="suggest"),
    ],
    "articles",
)
entity_urls = (
    [
        path("<slug:slug>/", views.entity_detail, name="detail"),
        path("<slug:slug>/feed/", views.entity_feed, name="feed"),
    ],
    "entities",
)
