"""The spaCy model, loaded once per process.

Only the components NER needs run: the parser, lemmatizer and tagger are
excluded. A long-running worker's StringStore would grow with every new token
(SPEC §9): extraction parses each batch inside `memory_zone()`, which frees
the strings the batch added when it ends. `SPACY_RELOAD_EVERY_DOCS` (off by
default) also reloads the model after that many documents, as a backstop.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable, Iterator

from django.conf import settings

logger = logging.getLogger(__name__)

EXCLUDED_COMPONENTS = ["parser", "lemmatizer", "tagger", "attribute_ruler", "senter"]

_lock = threading.Lock()
_nlp = None
_docs_since_load = 0


def get_nlp():
    global _nlp, _docs_since_load
    with _lock:
        reload_every = settings.SPACY_RELOAD_EVERY_DOCS
        if _nlp is None or (reload_every and _docs_since_load >= reload_every):
            import spacy

            logger.info("loading spaCy model %s", settings.SPACY_MODEL)
            _nlp = spacy.load(settings.SPACY_MODEL, exclude=EXCLUDED_COMPONENTS)
            _docs_since_load = 0
        return _nlp


@contextlib.contextmanager
def memory_zone() -> Iterator[None]:
    """Docs made inside must not be used after it: the strings they added to
    the shared StringStore are freed on the way out."""
    with get_nlp().memory_zone():
        yield


def pipe(texts: Iterable[str], *, batch_size: int = 32) -> Iterator:
    """Yield spaCy docs for texts, counting them towards the reload budget."""
    global _docs_since_load
    # The model is swapped only by get_nlp() between batches (memory_zone()),
    # never under a zone's docs.
    nlp = _nlp if _nlp is not None else get_nlp()
    for doc in nlp.pipe(texts, batch_size=batch_size):
        _docs_since_load += 1
        yield doc
