"""The history of the entity graph (SPEC §11): who changed what, when, before
→ after, the stories touched. Curation services record their changes here
under the editor they run for (`acting_as`); the automatic rules the corpus
writes or withdraws are recorded from the Alias model's signals, wherever in
the code that happens, as the system with the rule's evidence. Each change by
an editor also goes to Django's admin log, so it shows in the history of the
objects it changed. Undoing a change is a curation write (services.py)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import models

from entities.models import Alias, Change, ChangeSubject, Entity

_actor: ContextVar[int | None] = ContextVar("newsgraph_actor", default=None)


@contextmanager
def acting_as(user_id: int | None) -> Iterator[None]:
    """Changes recorded inside are the editor's (None: the system's)."""
    token = _actor.set(user_id)
    try:
        yield
    finally:
        _actor.reset(token)


def current_actor() -> int | None:
    return _actor.get()


def current_username() -> str:
    return _username(_actor.get())


def record(
    *,
    action: str,
    summary: str,
    entity_ids: Iterable[int],
    before: dict | None = None,
    after: dict | None = None,
    evidence: str = "",
    stories: int = 0,
    restore: dict | None = None,
    undo_of: Change | None = None,
    logged: Iterable[models.Model] = (),
) -> Change:
    """Write one change; `logged` objects get an admin log entry when an
    editor made it."""
    user_id = _actor.get()
    change = Change.objects.create(
        user_id=user_id,
        username=_username(user_id),
        action=action,
        summary=summary[:400],
        before=before or {},
        after=after or {},
        evidence=evidence,
        stories=stories,
        restore=restore or {},
        undo_of=undo_of,
    )
    ChangeSubject.objects.bulk_create(
        ChangeSubject(change=change, entity_id=pk)
        for pk in dict.fromkeys(entity_ids)
        if pk is not None
    )
    if user_id is not None:
        LogEntry.objects.bulk_create(
            LogEntry(
                user_id=user_id,
                content_type=ContentType.objects.get_for_model(obj),
                object_id=str(obj.pk),
                object_repr=str(obj)[:200],
                action_flag=CHANGE,
                change_message=summary[:400],
            )
            for obj in logged
        )
    return change


def _username(user_id: int | None) -> str:
    if user_id is None:
        return ""
    User = get_user_model()
    return User.objects.filter(pk=user_id).values_list(User.USERNAME_FIELD, flat=True).first() or ""


# --- automatic rules, wherever they are written or withdrawn ------------------------------


def _rule_written(sender, instance: Alias, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw and instance.automatic:
        record(
            action=Change.Action.RULE_ADDED,
            summary=f"Rule “{instance.name}” → {_entity_name(instance)}",
            entity_ids=[instance.entity_id],
            after={"name": instance.name, "entity": _entity_name(instance), "active": True},
            evidence=instance.evidence,
            restore={"alias_id": instance.pk},
            logged=[instance],
        )


def _rule_withdrawn(sender, instance: Alias, **kwargs) -> None:
    if instance.automatic:
        record(
            action=Change.Action.RULE_REMOVED,
            summary=f"Rule “{instance.name}” → {_entity_name(instance)} withdrawn",
            entity_ids=[instance.entity_id],
            before={
                "name": instance.name,
                "entity": _entity_name(instance),
                "active": instance.active,
            },
            evidence=instance.evidence,
        )


def _entity_name(alias: Alias) -> str:
    # An Entity(pk=…, name=…) stand-in (corpus._write_rule) already carries it.
    entity = alias._state.fields_cache.get("entity")
    if entity is not None and entity.name:
        return entity.name
    return Entity.objects.filter(pk=alias.entity_id).values_list("name", flat=True).first() or ""


def connect_signals() -> None:
    models.signals.post_save.connect(_rule_written, sender=Alias, dispatch_uid="history-rule")
    models.signals.post_delete.connect(
        _rule_withdrawn, sender=Alias, dispatch_uid="history-rule-withdrawn"
    )
