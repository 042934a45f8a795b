"""The pages and API that combine stories and entities: the search view,
about-lists, the story page with its highlighted mentions, entity pages and
their feed, suggestions, the JSON API.

May import `entities`, `articles` and `newsgraph.infra`; nothing below
imports it (docs/ARCHITECTURE.md).
"""
