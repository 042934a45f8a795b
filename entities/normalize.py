"""Turning an NER span into a clean surface form and a lookup key (SPEC §5)."""

import re
import unicodedata

# spaCy labels that name things a reader can browse by.
KEPT_LABELS = frozenset(
    {
        "PERSON",
        "ORG",
        "GPE",
        "LOC",
        "NORP",
        "FAC",
        "EVENT",
        "PRODUCT",
        "LAW",
        "WORK_OF_ART",
        "LANGUAGE",
    }
)

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
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an|mr|mrs|ms|dr|prof)\.?\s+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"(?:'s|')$")
_EDGE_JUNK = " \t\n\"'.,;:!?()[]{}<>-–—*_/\\|"
_SPACE = re.compile(r"\s+")


def normalize_surface(text: str) -> str:
    """`the Kurdish Democratic Party` → `Kurdish Democratic Party`,
    `Iran’s` → `Iran`, quotes and whitespace folded. Returns "" for junk."""
    text = unicodedata.normalize("NFC", text).translate(_QUOTES)
    text = _SPACE.sub(" ", text).strip(_EDGE_JUNK)
    previous = None
    while previous != text:
        previous = text
        text = _LEADING_ARTICLE.sub("", text)
        text = _POSSESSIVE.sub("", text).strip(_EDGE_JUNK)
    if len(text) < 2 or len(text) > 120:
        return ""
    if not any(ch.isalpha() for ch in text):
        return ""
    # Names are capitalised; an all-lower-case span is a tagging accident.
    if not any(ch.isupper() for ch in text):
        return ""
    return text


def name_key(name: str) -> str:
    """The case- and accent-insensitive key used for uniqueness and lookup."""
    folded = unicodedata.normalize("NFKD", name.translate(_QUOTES))
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _SPACE.sub(" ", folded.casefold()).strip()
