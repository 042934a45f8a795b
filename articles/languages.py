"""A story's language: detected from its title and text with py3langid (its
model ships in the wheel, nothing is downloaded), and named for people.

py3langid was chosen by measurement (issue #12): on the saved pages in
tests/data/pages and the demo corpus it named every story's language, 85 of
86 headlines on their own, in 1.6 ms per story; lingua was as accurate on
stories but took 13 ms and 1.4 GB, and cld3 missed a fifth of the headlines.
"""

from __future__ import annotations

import functools
import threading

# Enough text to decide: more costs time (detection is linear in the length)
# and changes nothing on a news story.
SAMPLE_CHARS = 2_000
# Fewer letters than this and any answer is a guess: the story stays "".
MIN_LETTERS = 12
# py3langid's probability (normalised over its 97 languages) below which the
# language is left unknown: a few English words with foreign names ("Angela
# Merkel spoke") come out as Dutch at 0.1; a story of any length in one
# language scores above 0.99. Unknown-language stories are read by the
# default model, as before detection existed.
MIN_PROBABILITY = 0.5

_lock = threading.Lock()


@functools.cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(title: str, text: str) -> str:
    """ISO 639-1 code of the story's language (e.g. "en", "ru"), "" when
    the text is too short or too mixed to tell."""
    sample = f"{title}\n{text[:SAMPLE_CHARS]}"
    if sum(ch.isalpha() for ch in sample[:200]) < MIN_LETTERS:
        return ""
    with _lock:  # the model's first load must happen once
        identifier = _identifier()
    code, probability = identifier.classify(sample)
    return code if probability >= MIN_PROBABILITY else ""


@functools.cache
def language_name(code: str) -> str:
    """ "Russian" for "ru"; the code itself when Babel does not know it."""
    if not code:
        return ""
    from babel import Locale

    return Locale("en").languages.get(code.replace("-", "_"), code)
