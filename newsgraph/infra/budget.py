"""A request budget per client (issue 25, docs/SECURITY.md): each kind of
request (text searches, suggestions, story and entity pages, the rest of
the API) may be asked for a number of times per window by one client;
beyond that the answer is 429 with Retry-After, until the window ends.

The defaults are generous (a reader never meets them) and are settings:
REQUEST_BUDGETS maps a kind to its requests per REQUEST_BUDGET_WINDOW
seconds (0 turns that kind's budget off), REQUEST_BUDGET_VIEWS maps view
names to kinds. The counts live in the REQUEST_BUDGET_CACHE cache (Redis
in production, so every web process shares them): one fixed-window counter
per client, kind and window, counted in one round trip to Redis
(bench/budget.py). If
the cache fails, requests are let through (a budget must not take the site
down) and the failure is logged.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest, HttpResponse, JsonResponse

from newsgraph.infra.clients import client_key

logger = logging.getLogger(__name__)


class RequestBudgetMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.window = max(1, int(settings.REQUEST_BUDGET_WINDOW))
        self.budgets = {kind: int(limit) for kind, limit in settings.REQUEST_BUDGETS.items()}
        self.views = dict(settings.REQUEST_BUDGET_VIEWS)
        self.cache_alias = settings.REQUEST_BUDGET_CACHE

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs) -> HttpResponse | None:
        kind = self.kind_of(request)
        limit = self.budgets.get(kind or "", 0)
        if limit <= 0:
            return None
        now = time.time()
        window = int(now // self.window)
        count = self.spend(f"budget:{kind}:{client_key(request)}:{window}")
        if count is None or count <= limit:
            return None
        retry_after = max(1, math.ceil((window + 1) * self.window - now))
        if count == limit + 1:  # logged once a window, not once a refused request
            logger.warning(
                "request budget: %s over %s per %ss from %s",
                kind,
                limit,
                self.window,
                client_key(request),
            )
        return self.refusal(request, kind, limit, retry_after)

    def kind_of(self, request: HttpRequest) -> str | None:
        match = request.resolver_match
        if match is None:
            return None
        kind = self.views.get(match.view_name)
        if kind == "search" and not request.GET.get("q", "").strip():
            return "pages"  # the front page and filter-only pages: no text search
        if kind is None and match.namespace == "api":
            return "api"
        return kind

    def spend(self, key: str) -> int | None:
        """The key's count after this request; None if the cache failed."""
        cache = caches[self.cache_alias]
        try:
            if isinstance(cache, RedisCache):
                return self._spend_in_redis(cache, key)
            try:
                return cache.incr(key)
            except ValueError:  # the window's first request
                if cache.add(key, 1, timeout=self.window + 1):
                    return 1
                return cache.incr(key)
        except Exception:  # the cache is down: let the request through
            logger.warning("request budget not counted: the cache failed", exc_info=True)
            return None

    def _spend_in_redis(self, cache: RedisCache, key: str) -> int:
        """One round trip instead of the cache API's two or three (EXISTS,
        INCR; SET NX on a window's first request): the counter created with
        its expiry if missing, then incremented, in one pipeline."""
        full_key = cache.make_and_validate_key(key)
        client = cache._cache.get_client(full_key, write=True)
        pipeline = client.pipeline(transaction=False)
        pipeline.set(full_key, 0, ex=self.window + 1, nx=True)
        pipeline.incr(full_key)
        return int(pipeline.execute()[1])

    def refusal(self, request: HttpRequest, kind: str, limit: int, retry_after: int):
        message = (
            f"Too many requests: {limit} {kind} requests per {self.window} seconds from one "
            f"address. Try again in {retry_after} seconds."
        )
        if request.resolver_match and request.resolver_match.namespace == "api":
            response = JsonResponse({"detail": message}, status=429)
        else:
            response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
        response.headers["Retry-After"] = str(retry_after)
        # Logged once a window above; django.request would log every refusal.
        response._has_been_logged = True
        return response
