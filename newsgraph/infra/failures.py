"""Errors no check foresaw, in a batch: the record's own, or the store's.

A batch (an ingest, an extraction) confines any exception on one record to
that record and goes on, except when the database itself fails: then no
record after it can be stored either, and the batch stops (issue #15).
"""

from __future__ import annotations

import re

from django.db import DatabaseError, DataError, IntegrityError

# Escaped in messages: control characters and line separators (a hostile
# name or URL must not drive a terminal, and a message stays on one line; a
# NUL cannot even be stored in PostgreSQL), lone surrogates (not encodable),
# bidirectional controls, byte-order marks and noncharacters.
_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
    "\ufeff\ufdd0-\ufdef\ufffe\uffff]"
)


def printable(text: str) -> str:
    """`text` with what a message may not hold escaped (`\\x1b`, `\\ud800`)."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class StoreFailure(Exception):
    """The database itself failed (gone, unreachable, not migrated, full):
    no further record can be stored, so a batch stops here."""


def is_store_failure(exc: BaseException) -> bool:
    """Whether `exc` is the database failing rather than one record: a
    DataError or IntegrityError is about the values stored; any other
    database error (connection lost, database gone, locked or full, tables
    missing) would stop every record after it as well."""
    if isinstance(exc, StoreFailure):
        return True
    return isinstance(exc, DatabaseError) and not isinstance(exc, DataError | IntegrityError)


def describe(exc: BaseException) -> str:
    """`Type: message` of an exception, on one line and not too long."""
    message = printable(" ".join(str(exc).split())[:300])
    return type(exc).__name__ + (f": {message}" if message else "")


def failure_reason(exc: BaseException) -> str:
    """What an editor is told about an error no check foresaw."""
    return f"unexpected error: {describe(exc)}"
