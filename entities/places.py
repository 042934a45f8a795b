"""Country and US state names from maintained data, not from a list typed here.

Countries: the name table of country_converter (its country_data.tsv: short
and official names, ISO codes, and a regular expression of the spellings
each country goes by, "U.S."/"USA"/"United States", "Britain"/"U.K.").
Read directly, so that its converter (and pandas) is not loaded. US states:
the `us` package (names, postal codes and AP abbreviations, "Calif.").

A name only counts when it is the whole name ("Iran", not "Iran Air" or
"Iranian"), and never when ISO 3166-2 (pycountry) names it as a nation,
state or province of its own ("England" is not the United Kingdom).
"""

from __future__ import annotations

import csv
import functools
import importlib.resources
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Place:
    name: str  # the canonical name an entity gets: "United States", "California"
    source: str  # what said so, shown to editors as the rule's evidence
    # Other names of the same place (a city's in other languages): an entity
    # the corpus already has by one of them is the place's (entities/languages/).
    also: tuple[str, ...] = ()


@functools.cache
def _countries() -> list[tuple[re.Pattern, str, str, str]]:
    table = importlib.resources.files("country_converter").joinpath("country_data.tsv")
    rows = []
    with table.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row.get("obsolete", "").strip():
                continue
            pattern = re.compile(row["regex"], re.IGNORECASE)
            rows.append((pattern, row["name_short"], row["ISO2"], row["ISO3"]))
    return rows


@functools.cache
def _states() -> dict[str, str]:
    import us

    names: dict[str, str] = {}
    for state in us.states.STATES_AND_TERRITORIES:
        for form in {state.name, state.ap_abbr, (state.ap_abbr or "").rstrip(".")}:
            if form and len(form) >= 4:  # "Ala." yes; two-letter codes are too ambiguous
                names[form.casefold()] = state.name
    return names


def country_by_iso2(code: str) -> str | None:
    """The short name of the country with this ISO 3166-1 alpha-2 code."""
    return next((name for _, name, iso2, _ in _countries() if iso2 == code), None)


@functools.lru_cache(maxsize=20_000)
def place_for(surface: str, language: str = "", label: str = "") -> Place | None:
    """The country or US state `surface` names as a whole, if any; in a
    language with its own place names (entities/languages/), those first."""
    from entities.languages import rules_for

    if (rules := rules_for(language)) is not None and (own := rules.place_for(surface, label)):
        return own
    text = " ".join(surface.split())
    if not text or len(text) > 60 or not any(ch.isalpha() for ch in text):
        return None
    state = _states().get(text.casefold()) or _states().get(text.casefold().rstrip("."))
    if state:
        return Place(state, f"us: {state} (AP style {text})")
    if text.casefold() in _subdivisions():
        return None  # "England", "Texas": a place of its own, not its country
    for pattern, name, iso2, iso3 in _countries():
        if pattern.fullmatch(text) or text.casefold() == name.casefold():
            return Place(name, f"country_converter: {name} ({iso2}/{iso3})")
    return None


@functools.cache
def _subdivisions() -> frozenset[str]:
    """Names of the nations, states and provinces inside countries (pycountry,
    ISO 3166-2), which country spellings must not swallow."""
    import pycountry

    return frozenset(s.name.casefold() for s in pycountry.subdivisions)
