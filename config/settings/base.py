"""Settings for every environment, read from the environment.

Embedded defaults (SQLite, a filesystem Celery broker, media on local disk)
let `make demo` run on a laptop; production sets DATABASE_URL,
CELERY_BROKER_URL and the secrets (see production.py and the README).
"""

from pathlib import Path

import environ
from django_guid.integrations import CeleryIntegration

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DATA_DIR = Path(env.str("MODERATION_DATA_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Only reachable from development and test settings: production.py reads the
# secret with no default and refuses to start without it.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-development-key-not-for-production")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_guid",
    "django_prometheus",
    "kernel",
    "tenants",
    "policy_admin",
    "moderation",
]

MIDDLEWARE = [
    "django_guid.middleware.guid_middleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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

if "DATABASE_URL" not in env:
    DATA_DIR.mkdir(parents=True, exist_ok=True)  # the SQLite file's folder
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tenant-picker"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(DATA_DIR / "staticfiles")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default=str(DATA_DIR / "media")))

# Uploads: Django refuses request bodies past these, before any view runs.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 2**20)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 2**20

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes an anonymous request a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "kernel.api_errors.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Moderation policy platform API",
    "DESCRIPTION": (
        "Author content policies, test them, and publish signed bundles. Every "
        "tenant-owned resource lives under /api/v1/tenants/{tenant}/; another "
        "tenant's resource is a 404."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Two choice sets share the field name "status": name each enum (runs keep theirs).
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "moderation.models.TestRun.Status",
        "InvitationStatusEnum": "tenants.models.Invitation.Status",
        # The action ladder, wherever a field takes one of its actions.
        "LadderActionEnum": "moderation.engine.decision.ACTIONS",
        # What a rule does when it fires (the ladder above allow).
        "ActionEnum": "policy_admin.models.rules.RULE_ACTIONS",
        # Which input a threshold judges, and which text a keyword or embedding set reads.
        "AppliesToEnum": "policy_admin.models.rules.AppliesTo",
        "TextTargetEnum": "policy_admin.models.rules.TextTarget",
    },
}

# Celery. The default broker is a directory on disk, so a real worker process
# runs on a laptop with no server; production and CI set CELERY_BROKER_URL.
_broker_dir = DATA_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Kombu's exchange tables; its default is ./control in the working directory.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # The worker looks for new messages this often (seconds); the default 1 s
        # would add up to a second to every live test.
        "polling_interval": 0.1,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {}
)
CELERY_RESULT_BACKEND = env.str(
    "CELERY_RESULT_BACKEND",
    default=(
        f"file://{_broker_dir / 'results'}"
        if CELERY_BROKER_URL.startswith("filesystem")
        else CELERY_BROKER_URL
    ),
)
CELERY_TASK_ALWAYS_EAGER = False
# Celery beat keeps the time of each periodic task's last send here.
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
if CELERY_BROKER_URL.startswith("filesystem"):
    # The embedded broker needs its folders before the first message.
    for _folder in (*CELERY_BROKER_TRANSPORT_OPTIONS.values(), CELERY_RESULT_BACKEND):
        if isinstance(_folder, str) and "/" in _folder:
            Path(_folder.removeprefix("file://")).mkdir(parents=True, exist_ok=True)

# Every log line carries the request id (X-Request-ID, generated when absent),
# which django-guid also hands to the Celery tasks a request enqueues.
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "RETURN_HEADER": True,
    "INTEGRATIONS": [CeleryIntegration(use_django_logging=True)],
}
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")  # "json" in production
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {
            "()": "django_guid.log_filters.CorrelationId",
            "correlation_id_field": "request_id",
        }
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django_guid": {"level": "WARNING"}},
}

# Prometheus metrics at /metrics for a scraper presenting this bearer token.
MODERATION_METRICS_TOKEN = env.str("MODERATION_METRICS_TOKEN", default="")

# Live tests: a running test's worker records a heartbeat this often; a test
# whose heartbeat is older than the stale limit lost its worker and is failed.
MODERATION_RUN_HEARTBEAT_SECONDS = env.int("MODERATION_RUN_HEARTBEAT_SECONDS", default=10)
MODERATION_RUN_STALE_SECONDS = env.int("MODERATION_RUN_STALE_SECONDS", default=45)

# Alert email: EMAIL_URL such as smtp+tls://user:pass@mail.example.com:587 (console by default).
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="alerts@moderation.invalid")

# Suites: samples judged per engine call (and stored per transaction).
MODERATION_SUITE_BATCH_SIZE = env.int("MODERATION_SUITE_BATCH_SIZE", default=32)

# Bundle signing keys (policy_admin.bundles.signing, docs/fleet.md): PEM files in
# this folder, or one key as PEM from the environment (a secret store).
MODERATION_SIGNING_KEY_DIR = Path(
    env.str("MODERATION_SIGNING_KEY_DIR", default=str(DATA_DIR / "signing-keys"))
)
MODERATION_SIGNING_KEY_PEM = env.str("MODERATION_SIGNING_KEY_PEM", default="")

# The fleet API keeps each channel's pointer (version, sha256) in this cache so a
# 304 costs a token lookup and a cache read. Several web processes need a shared
# cache (CACHE_URL=redis://…) for a promote to reach all of them at once; with the
# per-process default, a process sees a move within MODERATION_FLEET_POINTER_TTL.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
MODERATION_FLEET_POINTER_TTL = env.int("MODERATION_FLEET_POINTER_TTL", default=30)
# Fleet token rows are cached as long; a revoke drops the entry in the cache.
MODERATION_FLEET_TOKEN_CACHE_SECONDS = env.int("MODERATION_FLEET_TOKEN_CACHE_SECONDS", default=10)
# Published bundles are immutable, so each web process keeps recently served
# ones in memory, up to this many bytes.
MODERATION_FLEET_BUNDLE_MEMORY_BYTES = env.int(
    "MODERATION_FLEET_BUNDLE_MEMORY_BYTES", default=128 * 2**20
)
# A server that has not reported for this many poll intervals is shown as stale.
MODERATION_FLEET_POLL_SECONDS = env.int("MODERATION_FLEET_POLL_SECONDS", default=15)
MODERATION_FLEET_STALE_POLLS = env.int("MODERATION_FLEET_STALE_POLLS", default=3)
