from celery import shared_task
from django.core.cache import cache
from django.db import OperationalError

from entities import services
from entities.scoring import RESCORE_PENDING_KEY, rescore_due

RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "max_retries": 5,
}


@shared_task(acks_late=True, **RETRY)
def rescore() -> dict:
    # Cleared first: an extraction committing while we run schedules another pass.
    cache.delete(RESCORE_PENDING_KEY)
    report = rescore_due()
    return {"pairs": report.pairs, "seconds": round(report.seconds, 3), "full": report.full}


@shared_task(acks_late=True, **RETRY)
def merge_entities(target_id: int, source_ids: list[int]) -> None:
    services.entities_merge(target_id=target_id, source_ids=source_ids)


@shared_task(acks_late=True, **RETRY)
def block_entities(entity_ids: list[int]) -> None:
    services.entities_block(entity_ids=entity_ids)


@shared_task(acks_late=True, **RETRY)
def unblock_entities(entity_ids: list[int]) -> None:
    services.entities_unblock(entity_ids=entity_ids)


@shared_task(acks_late=True, **RETRY)
def rename_entity(entity_id: int, name: str) -> None:
    services.entity_rename(entity_id=entity_id, name=name)


@shared_task(acks_late=True, **RETRY)
def apply_alias(alias_id: int) -> None:
    services.alias_apply(alias_id=alias_id)


@shared_task(acks_late=True, **RETRY)
def apply_blocked_name(blocked_name_id: int) -> None:
    services.blocked_name_apply(blocked_name_id=blocked_name_id)


@shared_task(acks_late=True, **RETRY)
def apply_removed_rules(alias_names: list[str], blocked_names: list[str]) -> None:
    services.rules_remove_apply(alias_names=alias_names, blocked_names=blocked_names)
