from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_BROKER_URL = ""
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pages"},
}
RESCORE_DEBOUNCE_SECONDS = 0
# pytest-httpserver listens on 127.0.0.1; private ranges stay refused.
FETCH_ALLOW_LOOPBACK = True
# Every pass a full one, so tests see exact quantile stars; the incremental
# pass has its own tests.
RESCORE_FULL_GROWTH = -1.0
# Tests make hundreds of requests a minute from one address: the budgets are
# off, except in the tests of the budget itself (tests/newsgraph/test_request_budget.py).
REQUEST_BUDGETS = {kind: 0 for kind in REQUEST_BUDGETS}  # noqa: F405
