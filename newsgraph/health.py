from django.conf import settings
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from newsgraph.infra import replicas


def _database_state(alias: str = "default") -> str:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # any failure means "not ok"; say why
        return f"error: {type(exc).__name__}"


def _replica_state(alias: str) -> str:
    """A replica that fails here is left alone by the pages for a while."""
    state = _database_state(alias)
    if state != "ok":
        connections[alias].close()
        replicas.mark_down(alias, state)
    return state


def _broker_state() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "embedded"
    from newsgraph.celery import app  # only when a broker is configured

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:  # any failure means "not ok"; say why
        return f"error: {type(exc).__name__}"


@never_cache
@require_safe
def health(request: HttpRequest) -> JsonResponse:
    """Database and broker state for load balancers and `docker compose`."""
    state = {"database": _database_state(), "broker": _broker_state()}
    healthy = state["database"] == "ok" and state["broker"] in {"ok", "embedded"}
    if replicas.replica_aliases():
        # Not part of "healthy": without a replica the primary takes the reads.
        state["replicas"] = {alias: _replica_state(alias) for alias in replicas.replica_aliases()}
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", **state}, status=200 if healthy else 503
    )
