"""Addresses of one view for many objects (a page's ~20 stories and ~600
entity links) from one reverse() per view: reverse() walks the URL resolver
each time (~20 µs), here it runs once per view, script prefix and URL
configuration, and the object's id or slug goes between the two halves.

Only for values a URL converter takes as they are (ids, ASCII slugs); any
other value goes through reverse() itself.
"""

from __future__ import annotations

import functools
import re

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

# Matches both the int and the slug converter, and nothing else in an address.
_PLACEHOLDER = "8642097531"
_AS_IS = re.compile(r"[-a-zA-Z0-9_]+\Z")


def address(view_name: str, value: int | str, *, kwarg: str = "") -> str:
    """reverse(view_name, args=[value]) (or kwargs={kwarg: value})."""
    value = str(value)
    if not _AS_IS.match(value):
        return reverse(view_name, **_arguments(value, kwarg))
    head, tail = _halves(
        view_name, kwarg, get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF
    )
    return f"{head}{value}{tail}"


@functools.lru_cache(maxsize=256)
def _halves(view_name: str, kwarg: str, prefix: str, urlconf, root: str) -> tuple[str, str]:
    head, _, tail = reverse(view_name, **_arguments(_PLACEHOLDER, kwarg)).rpartition(_PLACEHOLDER)
    return head, tail


def _arguments(value: str, kwarg: str) -> dict:
    return {"kwargs": {kwarg: value}} if kwarg else {"args": [value]}
