"""Turning an NER span into a clean surface form and a lookup key (SPEC §5)."""

import functools
import re
import unicodedata

from entities.labels import KEPT_LABELS  # noqa: F401  (re-exported: the types a reader browses by)

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2013": "-",
        "\u2014": "-",
    }
)
_ARTICLES_AND_TITLES = r"(?:the|a|an|mr|mrs|ms|dr|prof)"
_LEADING_ARTICLE = re.compile(rf"^{_ARTICLES_AND_TITLES}\.?\s+", re.IGNORECASE)
_BARE_ARTICLE = re.compile(rf"{_ARTICLES_AND_TITLES}\.?", re.IGNORECASE)
# "U.S", "Washington D.C" once the edge dot is gone: the dot was part of the name.
_DOTTED_ABBREVIATION = re.compile(r"(?:^|[\s-])(?:[A-Za-z]\.)+[A-Za-z]$")
_POSSESSIVE = re.compile(r"(?:'s|')$")
# Wire headlines start with a section in capitals: "SOCCER - RUSSIA", "ATHLETICS - CHRISTIE".
_SECTION_PREFIX = re.compile(r"^[A-Z][A-Za-z&/]*(?: [A-Z][A-Za-z&/]*)? - (?=\S)")
# A title before a person's name, when a capitalised name follows.
_LEADING_TITLE = re.compile(
    r"^(?i:president|vice[- ]president|prime minister|minister|chancellor|councillor|councilor|"
    r"senator|sen|rep|representative|governor|gov|mayor|general|gen|colonel|col|captain|capt|"
    r"judge|justice)"
    r"\.?\s+(?=[A-Z])"
)
# "pro-Tehran", "Pro-Tehran", "anti-Kremlin": an attitude to a name, the name
# is what follows.
_ATTITUDE_PREFIX = re.compile(r"^(?i:pro|anti|non|ex|post|pre|neo|pan)-(?=[A-Z])")
# Lower-case words after the name of a person, organisation or place describe
# it ("Interfax news agency").
_DESCRIBED_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC"})
_EDGE_JUNK = " \t\n\"'.,;:!?()[]{}<>-–—*_/\\|"
_SPACE = re.compile(r"\s+")


def normalize_surface(text: str, label: str = "", language: str = "") -> str:
    """The clean surface of `text` as the rules of its story's `language`
    write it (entities/languages/); English, the default, below."""
    from entities.languages import rules_for

    if (rules := rules_for(language)) is not None:
        return rules.normalize_surface(text, label)
    return _normalize_english(text, label)


@functools.lru_cache(maxsize=200_000)
def _normalize_english(text: str, label: str = "") -> str:
    """`the Kurdish Democratic Party` → `Kurdish Democratic Party`,
    `Iran’s` → `Iran`, quotes and whitespace folded; a headline's section
    prefix ("SOCCER - RUSSIA"), an attitude prefix ("pro-Tehran") and, for
    names of people, organisations and places (`label`), figures from tables
    ("Younis 4-95") and trailing descriptions ("Interfax news agency") go, and
    an organisation's legal form ("Microsoft Corp.", cleanco).
    Returns "" for junk."""
    text = unicodedata.normalize("NFC", text).translate(_QUOTES)
    text = _strip_edges(_SPACE.sub(" ", text))
    if label == "PERSON":
        text = _LEADING_TITLE.sub("", text)  # "Councillor Desmond Achebe"
    if label:
        # What NER read, not what an editor typed (rule_key passes no label):
        # "Formula 1" or "pro-Tehran" as a rule means just that.
        text = _ATTITUDE_PREFIX.sub("", _SECTION_PREFIX.sub("", text))
        text = _strip_edges(_without_figures(text))
    if label in _DESCRIBED_LABELS:
        text = _without_description(text)
    if label == "ORG":
        text = _without_legal_form(text)
    previous = None
    while previous != text:
        previous = text
        text = _LEADING_ARTICLE.sub("", text)
        text = _strip_edges(_POSSESSIVE.sub("", text))
    if len(text) < 2 or len(text) > 120:
        return ""
    # A lone "The" or "Mr." is what is left of a mis-tagged span, not a name.
    if _BARE_ARTICLE.fullmatch(text):
        return ""
    if not any(ch.isalpha() for ch in text):
        return ""
    # Names are capitalised; an all-lower-case span is a tagging accident.
    if not any(ch.isupper() for ch in text):
        return ""
    return text


def _without_figures(text: str) -> str:
    """The name before the first token made of figures, without leading ones:
    a digit-only token ends a name ("Younis 4-95", "Surrey 429-7", "Helsinki
    Newsroom +358 - 0"), at the price of "Apollo 11" (tables are common in
    wire copy, numbered names are not)."""
    kept: list[str] = []
    for token in text.split(" "):
        figures = any(ch.isdigit() for ch in token) and not any(ch.isalpha() for ch in token)
        if figures or token in {"+", "-", "/"}:
            if kept:
                break
            continue
        kept.append(token)
    return " ".join(kept)


def _without_legal_form(text: str) -> str:
    """ "Microsoft Corp." is "Microsoft", "Deutsche Bank AG" "Deutsche Bank"
    (cleanco's legal forms); a legal form alone ("Inc") is no name, but one
    word in capitals is an acronym first: "EU" is cleanco's Slovenian
    "e.u." as well as the European Union."""
    from cleanco import basename

    if " " not in text and text.isupper():
        return text
    base = basename(text).strip(_EDGE_JUNK)
    return base if base != text.strip(_EDGE_JUNK) else text


def _without_description(text: str) -> str:
    tokens = text.split(" ")
    while len(tokens) > 1 and tokens[-1].isalpha() and tokens[-1].islower():
        tokens.pop()
    return " ".join(tokens)


def _strip_edges(text: str) -> str:
    stripped = text.strip(_EDGE_JUNK)
    if _DOTTED_ABBREVIATION.search(stripped) and f"{stripped}." in text:
        return f"{stripped}."
    return stripped


@functools.lru_cache(maxsize=200_000)
def name_key(name: str) -> str:
    """The case- and accent-insensitive key used for uniqueness and lookup."""
    folded = unicodedata.normalize("NFKD", name.translate(_QUOTES))
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _SPACE.sub(" ", folded.casefold()).strip()


def rule_key(name: str) -> str:
    """The key of an editor's rule (alias, blocked name): normalised like an
    extracted surface first, so "Iran's" or "the PMF" match what NER yields."""
    return name_key(normalize_surface(name) or name)


_DOTTED_LETTERS = re.compile(r"(?<![\w.])((?:[a-z]\.){1,}[a-z]\.?)(?![\w])")


def key_variants(key: str) -> list[str]:
    """The keys a name is also written as: dotted and undotted acronyms
    ("u.s." / "us" / "u.s"), so that "U.S.", "US" and "U.S" are one name."""
    undotted = _DOTTED_LETTERS.sub(lambda m: m.group(1).replace(".", ""), key)
    variants = [key, undotted]
    if undotted.isalpha() and 2 <= len(undotted) <= 5:
        variants.append(".".join(undotted) + ".")
    return list(dict.fromkeys(variants))


def surname_key(key: str, type_: str) -> str:
    """The last word of a person's full name (two words or more), else ""."""
    words = key.split()
    return words[-1][:100] if type_ == "PERSON" and len(words) >= 2 else ""


# "Gillingham v Chesterfield", "England vs. Pakistan": a fixture, not a name.
_FIXTURE = re.compile(r"\s(?:v|vs|v\.|vs\.)\s", re.IGNORECASE)


@functools.lru_cache(maxsize=50_000)
def clean_person_name(name: str) -> bool:
    """Whether `name` can be a person's full name that shorter names join
    (SPEC §10): parsed by nameparser, it has a first name (not an initial)
    and a last name, no
    title before it ("Trainer", "Coach"), no figures ("Younis 4-95"), no
    fixture ("Gillingham v Chesterfield"), no company's legal form
    ("Piper Jaffray Inc", cleanco), and no lower-case word but a particle
    ("von der Leyen", "al-Sudani")."""
    from cleanco import basename
    from nameparser import HumanName
    from nameparser.config import CONSTANTS

    words = name.split()
    if not 2 <= len(words) <= 5 or any(ch.isdigit() for ch in name) or _FIXTURE.search(name):
        return False
    first = words[0].casefold().rstrip(".")
    if first in CONSTANTS.titles or len(first) == 1 or first in CONSTANTS.prefixes:
        return False  # a title, an initial or a particle: "R. Croft", "von der Leyen"
    if basename(name) != name:
        return False
    for word in words[1:]:
        if word[:1].islower() and word.casefold().split("-")[0] not in CONSTANTS.prefixes:
            return False
    parsed = HumanName(name)
    return bool(parsed.first and parsed.last) and not parsed.title
