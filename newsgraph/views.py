from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # any failure means "not ok"; say why
        return f"error: {type(exc).__name__}"


def _broker_state() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "embedded"
    from newsgraph.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:  # any failure means "not ok"; say why
        return f"error: {type(exc).__name__}"


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Database and broker state for load balancers and `docker compose`."""
    state = {"database": _database_state(), "broker": _broker_state()}
    healthy = state["database"] == "ok" and state["broker"] in {"ok", "embedded"}
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", **state}, status=200 if healthy else 503
    )
