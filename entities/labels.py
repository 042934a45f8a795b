"""Each spaCy pipeline's NER labels, mapped to the project's entity types.

Pipelines are trained on different label schemes: the English ones on
OntoNotes (PERSON, GPE, ORG, ... and numeric labels), most others spaCy ships
(French, Spanish, Italian, Portuguese...) on WikiNER (PER, LOC, ORG, MISC).
Extraction turns a span's label into a project type here, once, when it
leaves spaCy: everything after (normalising, resolving, identity across
stories, stored mentions) speaks the project's types only.

A configured pipeline whose labels are not all mapped (kept or knowingly left
out) is a configuration error, reported at start-up by a system check read
from the model's meta.json (`check_models`) and again when the model loads,
from the pipeline's own label list (`nlp.get_pipe("ner").labels`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.exceptions import ImproperlyConfigured

# The project's entity types: OntoNotes' labels that name things a reader
# can browse by, and WikiNER's MISC (other names).
BROWSABLE_ONTONOTES = (
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
)
KEPT_LABELS = frozenset({*BROWSABLE_ONTONOTES, "MISC"})

# None: the label is known and names no browsable thing (dates, figures).
ONTONOTES: Mapping[str, str | None] = {
    **{label: label for label in BROWSABLE_ONTONOTES},
    **dict.fromkeys(("DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL"), None),
}
# WikiNER's LOC is mostly countries and cities in news (what OntoNotes calls
# GPE, and what place data and the English pipeline's entities are typed):
# typed GPE so that "Allemagne" and "Germany" are one type as well as one
# entity. MISC (events, works, nationalities as nouns: "Coupe du monde",
# "Français") has no OntoNotes counterpart: a type of its own.
WIKINER: Mapping[str, str | None] = {"PER": "PERSON", "LOC": "GPE", "ORG": "ORG", "MISC": "MISC"}

SCHEMES: tuple[tuple[str, Mapping[str, str | None]], ...] = (
    ("OntoNotes", ONTONOTES),
    ("WikiNER", WIKINER),
)


def label_map(model: str, labels: Iterable[str]) -> dict[str, str]:
    """The pipeline's kept labels → project types; raises ImproperlyConfigured
    naming the labels no scheme maps."""
    labels = sorted(set(labels))
    for _, scheme in SCHEMES:
        if all(label in scheme for label in labels):
            return {label: scheme[label] for label in labels if scheme[label]}
    known = set().union(*(scheme for _, scheme in SCHEMES))
    unmapped = [label for label in labels if label not in known] or labels
    raise ImproperlyConfigured(
        f"spaCy model {model!r} has NER labels no label scheme maps to entity types: "
        f"{', '.join(unmapped)} (entities/labels.py maps "
        f"{' and '.join(name for name, _ in SCHEMES)}); add its scheme there or "
        "choose another model in SPACY_MODELS"
    )


def model_labels(model: str) -> list[str] | None:
    """The NER labels a model package declares in its meta.json, without
    loading it; None when the package or its labels cannot be read."""
    try:
        from spacy.util import get_package_path, load_meta

        meta = load_meta(get_package_path(model) / "meta.json")
    except (ImportError, OSError, ValueError):
        return None
    labels = meta.get("labels", {}).get("ner")
    return list(labels) if labels is not None else None
