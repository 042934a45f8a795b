"""Errors no check foresaw, in a batch: the record's own, or the store's.

A batch (an ingest, an extraction) confines any exception on one record to
that record and goes on, except when the database itself fails: then no
record after it can be stored either, and the batch stops (issue #15).
"""

from __future__ import annotations

from django.db import DatabaseError, DataError, IntegrityError


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
    message = " ".join(str(exc).split())
    return type(exc).__name__ + (f": {message[:300]}" if message else "")


def failure_reason(exc: BaseException) -> str:
    """What an editor is told about an error no check foresaw."""
    return f"unexpected error: {describe(exc)}"
