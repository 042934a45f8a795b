"""Text as stories store it: cleaned of what no page or database should
hold (control characters, lone surrogates, bidirectional overrides), as
paragraphs; HTML spared its blob attributes before parsing; and JSONL read
line by line, a bad line reported without stopping the file. Pure: no
database, used by ingest, feeds, the story admin and bench/.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from django.conf import settings

_BLANK_LINES = re.compile(r"\n\s*\n+")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
# What stored text never holds: C0 and C1 control characters but tab, newline
# and carriage return (PostgreSQL refuses NUL; the XML of the entity feeds can
# carry none of them); the bidirectional embeddings, overrides and isolates
# (an unclosed U+202E reverses the rest of a title on every page showing it);
# stray byte-order marks, interlinear annotations and noncharacters.
CONTROL_CHARACTERS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
    "\ufeff\ufff9-\ufffb\ufdd0-\ufdef"
    + "".join(chr(plane + 0xFFFE) + chr(plane + 0xFFFF) for plane in range(0, 0x110000, 0x10000))
    + "]"
)
# Surrogates: valid as JSON escapes and common in scraped data, but a lone one
# cannot be encoded as UTF-8 (nor stored, nor hashed).
SURROGATES = re.compile("[\ud800-\udfff]")


def _without_controls(text: str) -> str:
    """`text` as valid Unicode in NFC: surrogate pairs joined, lone surrogates
    replaced by U+FFFD (as undecodable bytes are), control characters dropped."""
    if SURROGATES.search(text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return unicodedata.normalize("NFC", CONTROL_CHARACTERS.sub("", text))


def clean_text(text: str) -> str:
    """Paragraphs separated by one blank line, no control characters."""
    text = _without_controls(text or "").replace("\u2029", "\n\n").replace("\u2028", "\n")
    paragraphs = (
        _SPACES.sub(" ", p).strip() for p in _BLANK_LINES.split(text.replace("\r\n", "\n"))
    )
    return "\n\n".join(" ".join(p.split("\n")) for p in paragraphs if p)


def clean_line(text: str) -> str:
    """One line of text (a title, a source's name): cleaned as `clean_text`,
    every run of white space one space."""
    return " ".join(_without_controls(text or "").split())


# Attribute values this long are inline images and other blobs (data: URIs),
# never a story's text or title; trafilatura spends seconds on a megabyte one.
_LONG_ATTRIBUTE = re.compile(r"""=\s*("[^"]{10000,}"|'[^']{10000,}')""")


def strip_long_attributes(html: str) -> str:
    return _LONG_ATTRIBUTE.sub('=""', html)


def page_text(extracted: str) -> str:
    """trafilatura's text (one line per paragraph) as paragraphs."""
    return clean_text(extracted.replace("\n", "\n\n"))


def jsonl_lines(handle: BinaryIO, *, max_bytes: int) -> Iterator[bytes | None]:
    """The lines of a binary stream, one at a time; None for a line longer
    than `max_bytes`, which is skipped without ever being held whole."""
    while line := handle.readline(max_bytes + 1):
        if len(line) > max_bytes and not line.endswith(b"\n"):
            while (rest := handle.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass
            yield None
        else:
            yield line


def iter_jsonl(lines: Iterable[bytes | str | None]) -> Iterator[tuple[int, dict | None, str]]:
    """(line number, record, error) for each non-blank line; a None line is
    one too long to read (`jsonl_lines`)."""
    for number, raw in enumerate(lines, start=1):
        if raw is None:
            limit = settings.MAX_JSONL_LINE_BYTES
            yield number, None, f"the line is too long (over {limit:,} bytes)"
            continue
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", errors="replace")
        if number == 1:
            raw = raw.removeprefix("\ufeff")  # the byte-order mark some editors write
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield number, None, f"invalid JSON ({exc.msg}, column {exc.colno})"
            continue
        except RecursionError:
            yield number, None, "invalid JSON (nested too deeply)"
            continue
        except ValueError as exc:  # an integer of over 4,300 digits
            yield number, None, f"invalid JSON ({str(exc).split(':', 1)[0]})"
            continue
        if not isinstance(record, dict):
            yield number, None, "expected a JSON object"
            continue
        yield number, record, ""
