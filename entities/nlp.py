"""The spaCy model, loaded once per process and reloaded now and then.

Only the components NER needs run: the parser, lemmatizer and tagger are
excluded. A long-running worker's StringStore grows with every new token, so
the model is reloaded after `SPACY_RELOAD_EVERY_DOCS` documents (SPEC §9).
"""

from __future__ import annotations

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
        if _nlp is None or _docs_since_load >= settings.SPACY_RELOAD_EVERY_DOCS:
            import spacy

            logger.info("loading spaCy model %s", settings.SPACY_MODEL)
            _nlp = spacy.load(settings.SPACY_MODEL, exclude=EXCLUDED_COMPONENTS)
            _docs_since_load = 0
        return _nlp


def pipe(texts: Iterable[str], *, batch_size: int = 32) -> Iterator:
    """Yield spaCy docs for texts, counting them towards the reload budget."""
    global _docs_since_load
    nlp = get_nlp()
    for doc in nlp.pipe(texts, batch_size=batch_size):
        _docs_since_load += 1
        yield doc
