"""Akagi settings: one module, every knob an environment variable with a safe default.

Unset ``DATABASE_URL`` / ``REDIS_URL`` mean "embedded": a real PostgreSQL 18 (+pgvector) and a real Redis are
started under ``.data/`` (see ``config.embedded``). Production sets both and nothing is started.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config import embedded

BASE_DIR = Path(__file__).resolve().parent.parent

# LGWAN has no internet: libraries that phone home on import (unstructured's analytics) must stay quiet.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("SCARF_NO_ANALYTICS", "true")

if "pytest" in sys.modules and "AKAGI_DATA_DIR" not in os.environ:
    # Tests never share servers with a running `make run`: a development worker would otherwise pick up
    # the tests' tasks. Subprocesses started by tests inherit this.
    os.environ["AKAGI_DATA_DIR"] = str(BASE_DIR / ".data" / "test")
if "pytest" in sys.modules and "AKAGI_CACHE_PREFIX" not in os.environ:
    os.environ["AKAGI_CACHE_PREFIX"] = f"run{os.getpid()}"


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

# A development key is generated once per checkout and kept out of git; production must set SECRET_KEY.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if env_bool("AKAGI_REQUIRE_SECRET_KEY", False):
        raise ImproperlyConfigured("SECRET_KEY must be set in production (AKAGI_REQUIRE_SECRET_KEY=1).")
    key_file = embedded.data_dir() / "secret_key"
    if not key_file.exists():
        import secrets

        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()

# Tenants live at <slug>.<base domain>; the prefecture operator's console at the base domain itself.
BASE_DOMAIN = os.environ.get("AKAGI_BASE_DOMAIN", "localhost")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", f"{BASE_DOMAIN},.{BASE_DOMAIN}")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# --------------------------------------------------------------------------- apps
SHARED_APPS = [
    "django_tenants",
    "tenants",
    # The user model lives in every schema: operators in public, staff in each municipality.
    "accounts",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.admin",  # public schema only: superusers' maintenance screen, not the operator's console
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "accounts",
    "allauth.account",
    "audit",
    "guard",
    "usage",
    "chat",
    "rag",
    "prompts",
    "training",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]

MIDDLEWARE = [
    "config.middleware.ReleaseDatabaseForStreamsMiddleware",
    # /healthz answers for any host (load balancers probe by IP), so it runs before tenant routing.
    "config.health.HealthCheckMiddleware",
    "tenants.middleware.TenantRoutingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "tenants.middleware.SuspendedTenantMiddleware",
    "accounts.middleware.ForcePasswordChangeMiddleware",
]

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
                "tenants.context_processors.current_tenant",
            ],
        },
    },
]

ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

# --------------------------------------------------------------------------- database and Redis
# Under ASGI every request context gets its own connection, so persistent connections are not reused, only
# kept open longer: they stay off unless asked for.
CONN_MAX_AGE = int(os.environ.get("DB_CONN_MAX_AGE") or "0")
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=CONN_MAX_AGE)}
    EMBEDDED_POSTGRES = False
else:
    _pg = embedded.ensure_postgres()
    DATABASES = {
        "default": {
            "NAME": _pg.name,
            "USER": _pg.user,
            "PASSWORD": "",
            "HOST": _pg.host,
            "PORT": str(_pg.port),
            "CONN_MAX_AGE": CONN_MAX_AGE,
        }
    }
    EMBEDDED_POSTGRES = True
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
# Under ASGI each concurrent request runs its synchronous parts in a thread of its own, so a burst of requests
# would open one connection each. A bounded pool makes them queue for a connection instead of exhausting the
# server's slots. (django-tenants sets search_path on every new cursor, so a pooled connection never carries
# one municipality's schema into another's request.)
if env_bool("DB_POOL", True):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": int(os.environ.get("DB_POOL_MAX_SIZE") or "20"),
        "timeout": float(os.environ.get("DB_POOL_TIMEOUT") or "30"),
    }
DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ.get("AKAGI_TEST_DATABASE", "test_akagi")

if os.environ.get("REDIS_URL"):
    REDIS_URL = os.environ["REDIS_URL"]
    REDIS_CACHE_URL = os.environ.get("REDIS_CACHE_URL", REDIS_URL)
    EMBEDDED_REDIS = False
else:
    _redis = embedded.ensure_redis()
    REDIS_URL = _redis.url(0)
    # The cache gets its own database so that clearing it never drops queued Celery tasks.
    REDIS_CACHE_URL = os.environ.get("REDIS_CACHE_URL", _redis.url(1))
    EMBEDDED_REDIS = True

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_CACHE_URL,
        # Keys carry the schema name, so a throttle or cached page of one municipality never leaks to another.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        # Test runs (and uvicorn/worker processes they start) use their own prefix, so one run clearing its
        # cache never wipes another run's throttles or import previews.
        "KEY_PREFIX": os.environ.get("AKAGI_CACHE_PREFIX", ""),
    }
}

# --------------------------------------------------------------------------- Celery
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Asia/Tokyo"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis gives a message whose worker died (acks_late, unacknowledged) to another worker after this many seconds;
# it must exceed the longest task (a 50 MB document's ingestion), which would otherwise run twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("AKAGI_CELERY_VISIBILITY_TIMEOUT") or 3600)}
CELERY_IMPORTS = ["config.tasks"]
CELERY_BEAT_SCHEDULE = {
    # tenant-schemas-celery sends an entry without "tenant_schemas" to every municipality's schema.
    "clear-expired-sessions": {"task": "accounts.tasks.clear_expired_sessions", "schedule": 3600.0},
    "purge-old-exports": {"task": "audit.tasks.purge_old_exports", "schedule": 3600.0},
    # Documents whose ingestion task was lost (a worker gone for good) are queued again after the visibility
    # timeout has passed without progress.
    "requeue-stale-documents": {"task": "rag.tasks.requeue_stale_documents", "schedule": 900.0},
    # Once, in the public schema (tenant-schemas-celery turns a top-level "tenant_schemas" into one entry per
    # named schema): it visits each municipality itself through tenants.crossing and writes the dashboard's rows.
    "summarize-usage": {"task": "tenants.tasks.summary.summarize_days", "schedule": 900.0,
                        "tenant_schemas": ["public"]},
    "purge-old-archives": {"task": "tenants.tasks.archive.purge_old_archives", "schedule": 3600.0,
                           "tenant_schemas": ["public"]},
}

# --------------------------------------------------------------------------- authentication
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
     "OPTIONS": {"user_attributes": ("email", "full_name", "staff_number")}},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": int(os.environ.get("AKAGI_PASSWORD_MIN_LENGTH") or "10")}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.validators.NotStaffNumberValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]

ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"login": "accounts.forms.StaffLoginForm"}
ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_USER_MODEL_USERNAME_FIELD = "staff_number"
ACCOUNT_USER_MODEL_EMAIL_FIELD = "email"
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# After AKAGI_LOGIN_ATTEMPTS failures for one identifier the account is locked for AKAGI_LOCKOUT_SECONDS.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "20/m/ip,{}/{}s/key".format(
        int(os.environ.get("AKAGI_LOGIN_ATTEMPTS") or "5"),
        int(os.environ.get("AKAGI_LOCKOUT_SECONDS") or "900"),
    ),
    "change_password": "5/m/user",
    "reset_password": "20/m/ip,5/m/key",
}
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

SESSION_COOKIE_AGE = int(os.environ.get("AKAGI_SESSION_SECONDS", str(8 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = True  # idle timeout: the clock restarts with every request
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_COOKIES = env_bool("AKAGI_SECURE_COOKIES", False)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
if SECURE_COOKIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --------------------------------------------------------------------------- i18n, static
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語")]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("AKAGI_STATIC_ROOT", embedded.data_dir() / "staticfiles"))
if not STATIC_ROOT.exists():
    # A read-only image may refuse: collectstatic created it at build time, or the finders serve the files.
    with contextlib.suppress(OSError):
        STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serve from static/ directly in the embedded setup; collectstatic in production
MEDIA_ROOT = Path(os.environ.get("AKAGI_MEDIA_ROOT", embedded.data_dir() / "media"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --------------------------------------------------------------------------- e-mail and logging
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "akagi@localhost")
# SMTP (EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend): the LGWAN mail relay, for example.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT") or "25")
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "0") == "1"
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT") or "20")
# When the deployment can send mail, a new municipality's first administrator also gets an invitation with a link
# to set a password (the initial password is still shown once to the operator).
AKAGI_SEND_INVITATIONS = os.environ.get("AKAGI_SEND_INVITATIONS", "0") == "1"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}

# Knowledge bases: what web fetching may reach (internal hosts only when the operator lists them), through which
# proxy (LGWAN reaches the internet through one), and how much it may take.
AKAGI_RAG_ALLOWED_HOSTS = env_list("AKAGI_RAG_ALLOWED_HOSTS", "")
AKAGI_HTTP_PROXY = os.environ.get("AKAGI_HTTP_PROXY") or None
AKAGI_RAG_CRAWL_MAX_PAGES = int(os.environ.get("AKAGI_RAG_CRAWL_MAX_PAGES") or "50")
AKAGI_RAG_CRAWL_DELAY = float(os.environ.get("AKAGI_RAG_CRAWL_DELAY") or "1")
AKAGI_RAG_MAX_FILE_BYTES = int(os.environ.get("AKAGI_RAG_MAX_FILE_BYTES") or 50 * 1024 * 1024)
# 環境の引き継ぎ (tenant export/import): the largest archive the console accepts, and how long exports stay.
AKAGI_ARCHIVE_MAX_UPLOAD_BYTES = int(os.environ.get("AKAGI_ARCHIVE_MAX_UPLOAD_BYTES") or 5 * 1024**3)
AKAGI_ARCHIVE_RETENTION_DAYS = int(os.environ.get("AKAGI_ARCHIVE_RETENTION_DAYS") or "7")

# How many knowledge-base passages go into a prompt.
AKAGI_RAG_PASSAGES = int(os.environ.get("AKAGI_RAG_PASSAGES") or "6")

# The longest prompt accepted, in characters; longer texts belong in a knowledge base.
AKAGI_MAX_PROMPT_CHARS = int(os.environ.get("AKAGI_MAX_PROMPT_CHARS") or "30000")

# The audit trail is kept forever unless the operator sets a retention period (days) and runs audit_purge.
AKAGI_AUDIT_RETENTION_DAYS = int(os.environ["AKAGI_AUDIT_RETENTION_DAYS"]) if os.environ.get(
    "AKAGI_AUDIT_RETENTION_DAYS") else None

# Export files (full prompts and answers) are deleted this many days after they were made.
AKAGI_EXPORT_RETENTION_DAYS = int(os.environ.get("AKAGI_EXPORT_RETENTION_DAYS") or "7")

# How a municipality's address is written in command output and the console: "{host}" is its domain.
AKAGI_SITE_URL = os.environ.get("AKAGI_SITE_URL", "http://{host}:8000/")
AKAGI_HEALTH_WORKER_TIMEOUT = float(os.environ.get("AKAGI_HEALTH_WORKER_TIMEOUT") or "1.0")
