"""Rules that depend on a story's language (issue #26), one module per
language, found through this registry.

English is the default: the rules in entities/normalize.py and
entities/resolution.py are English rules (articles and titles, trailing
lower-case descriptions, English stop words) and run on English stories and on
stories whose language is unknown. A language with a module here gets its own
rules instead, never the English ones: each module provides

* `normalize_surface(text, label) -> str`: the clean surface ("" for junk);
* `is_common_word(surface) -> bool`: one common word, not a name;
* `initials(words) -> set[str]`: the acronyms a name's words spell;
* `place_for(surface) -> Place | None`: a country, subdivision or city named
  in this language, as the one entity every language's stories feed.

Modules are imported on first use, so a language no story is in costs nothing.
"""

from __future__ import annotations

import functools
import importlib
from types import ModuleType

# ISO 639-1 code -> module in this package.
MODULES = {"fr": "entities.languages.fr"}


@functools.cache
def rules_for(language: str) -> ModuleType | None:
    """The module of `language`'s own rules, or None for the default (English)."""
    name = MODULES.get(language or "")
    return importlib.import_module(name) if name else None
