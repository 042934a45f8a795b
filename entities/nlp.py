"""The spaCy models, loaded once per process: one per language in
`SPACY_MODELS` (English by default); stories in other languages get no NER
(issue #12), stories whose language is unknown are read by `SPACY_MODEL`.
A model is loaded the first time a story in its language is read, and its NER
labels are mapped to the project's types then (entities/labels.py): a model
whose labels are not all mapped fails to load, with the labels named.

Only the components NER needs run: the parser, lemmatizer, tagger and
morphologizer are excluded, and so is a shared tok2vec that nothing left
listens to. A long-running worker's StringStore would grow with every new token
(SPEC §9): extraction parses each batch inside `memory_zone()`, which frees
the strings the batch added when it ends. `SPACY_RELOAD_EVERY_DOCS` (off by
default) also reloads the model after that many documents, as a backstop.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable, Iterator, Sequence

from django.conf import settings

from entities.labels import label_map

logger = logging.getLogger(__name__)

EXCLUDED_COMPONENTS = [
    "parser",
    "lemmatizer",
    "tagger",
    "attribute_ruler",
    "senter",
    "morphologizer",
]

_lock = threading.Lock()
_loaded: dict[str, object] = {}  # model name -> pipeline
_label_maps: dict[str, dict[str, str]] = {}  # model name -> {its NER label: project type}
_docs_since_load = 0


def model_name_for(language: str) -> str | None:
    """The spaCy pipeline that reads stories in `language` (ISO 639-1), or
    None when no configured model does."""
    if not language:
        return settings.SPACY_MODEL
    return settings.SPACY_MODELS.get(language)


def reads(language: str) -> bool:
    return model_name_for(language) is not None


def get_nlp(language: str = ""):
    """The pipeline for `language` (default: `SPACY_MODEL`), loaded on first use."""
    return _load(model_name_for(language) or settings.SPACY_MODEL)


def _load(name: str):
    global _docs_since_load
    with _lock:
        reload_every = settings.SPACY_RELOAD_EVERY_DOCS
        if reload_every and _docs_since_load >= reload_every:
            _loaded.clear()
            _docs_since_load = 0
        if name not in _loaded:
            import spacy

            logger.info("loading spaCy model %s", name)
            model = spacy.load(name, exclude=EXCLUDED_COMPONENTS)
            # The shared tok2vec feeds the tagger and parser; the small
            # pipelines' NER embeds on its own. Left with no listener it would
            # only cost time (a third of NER's in English, two thirds in French).
            if "tok2vec" in model.pipe_names and not model.get_pipe("tok2vec").listener_map:
                model.remove_pipe("tok2vec")
            _label_maps[name] = label_map(name, model.get_pipe("ner").labels)
            _loaded[name] = model
        return _loaded[name]


def types_for(language: str) -> dict[str, str]:
    """{NER label: project type} of the pipeline that reads `language`."""
    name = model_name_for(language) or settings.SPACY_MODEL
    if name not in _label_maps:
        _load(name)
    return _label_maps[name]


@contextlib.contextmanager
def memory_zone(languages: Iterable[str] | None = None) -> Iterator[None]:
    """Docs made inside must not be used after it: the strings they added to
    the shared StringStores are freed on the way out. The models of
    `languages` (default: every configured one) are loaded first, so none is
    loaded (or swapped) under a zone; `pipe` reads only those languages."""
    if languages is None:
        names = sorted({settings.SPACY_MODEL, *settings.SPACY_MODELS.values()})
    else:
        names = sorted({model_name_for(language) or settings.SPACY_MODEL for language in languages})
    models = [_load(name) for name in names]
    with contextlib.ExitStack() as zones:
        for model in models:
            zones.enter_context(model.memory_zone())
        yield


def pipe(
    texts: Iterable[str], *, batch_size: int = 32, languages: Sequence[str] | None = None
) -> Iterator:
    """Yield spaCy docs for texts, in order, each read by the model of its
    language; counting them towards the reload budget."""
    global _docs_since_load
    texts = list(texts)
    languages = list(languages) if languages is not None else [""] * len(texts)
    by_model: dict[str, list[int]] = {}
    for index, language in enumerate(languages):
        by_model.setdefault(model_name_for(language) or settings.SPACY_MODEL, []).append(index)
    docs: list = [None] * len(texts)
    # The models are swapped only by get_nlp() between batches (memory_zone()),
    # never under a zone's docs.
    for name, indexes in by_model.items():
        model = _loaded.get(name) or _load(name)
        for index, doc in zip(
            indexes, model.pipe([texts[i] for i in indexes], batch_size=batch_size), strict=True
        ):
            _docs_since_load += 1
            docs[index] = doc
    yield from docs
