"""The one settings module. Everything that differs between a laptop and a deployment
comes from the environment; the defaults start the product on a laptop with SQLite."""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DATA_DIR = Path(env_str("JIAYUAN_DATA_DIR") or Path.cwd() / "var").resolve()
DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    """An explicit SECRET_KEY wins; otherwise a laptop keeps a generated key in DATA_DIR."""
    explicit = env_str("SECRET_KEY")
    if explicit:
        return explicit
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(64)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
CSRF_FAILURE_VIEW = "jiayuan.core.views.csrf_failure"

# Behind TLS in production: one switch turns on every HTTPS protection.
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 14 * 24 * 3600)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    # Serves the API docs' Swagger UI from our own static files instead of a public CDN.
    "ninja",
    "template_partials",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "jiayuan.core",
    "jiayuan.accounts",
    "jiayuan.org",
    "jiayuan.comms",
    "jiayuan.servicedesk",
    "jiayuan.sla",
    "jiayuan.triage",
    "jiayuan.dispatch",
    "jiayuan.quality",
    "jiayuan.supervision",
    "jiayuan.training",
    "jiayuan.dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "jiayuan.core.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "jiayuan.core.middleware.CurrentEstateMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "jiayuan.urls"
WSGI_APPLICATION = "jiayuan.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "jiayuan.core.context_processors.shell",
            ],
        },
    }
]
# Django's form templates, but selects, inputs, labels and empty error lists written in
# Python, to the byte (core/form_renderer.py).
FORM_RENDERER = "jiayuan.core.form_renderer.FormRenderer"


def _databases() -> dict:
    url = env_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'jiayuan.sqlite3'}"
    # Connections are kept between requests (checked before reuse): opening one costs the
    # database more than a whole owner's request does (docs/benchmarks.md).
    default = dj_database_url.parse(
        url, conn_max_age=env_int("CONN_MAX_AGE", 600), conn_health_checks=True
    )
    if default["ENGINE"] == "django.db.backends.sqlite3":
        if default["NAME"] != ":memory:":
            Path(default["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        # WAL lets readers and the one writer work at once; IMMEDIATE takes the write lock
        # at BEGIN so two writers queue instead of failing with "database is locked".
        default["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    elif default["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend with small batches inserted as VALUES (decisions §38).
        default["ENGINE"] = "jiayuan.core.postgresql"
        default.setdefault("TEST", {})["NAME"] = env_str("TEST_DATABASE_NAME") or None
        # Values travel apart from the statement. Nothing is prepared, so every statement is
        # planned for its values, except on the hot paths that ask for it (core.db).
        options = default.setdefault("OPTIONS", {})
        options.update(server_side_binding=True, prepare_threshold=None)
    return {"default": default}


DATABASES = _databases()
# PostgreSQL: on the hot paths of point lookups (an API sign-in, an owner's report), a
# statement run this many times on a connection is prepared there and may keep a generic
# plan (decisions §29). 0: never, for a pooler that cannot keep prepared statements.
PREPARED_STATEMENTS_AFTER = env_int("DATABASE_PREPARE_THRESHOLD", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "jiayuan.accounts.backends.UsernameOrMobileBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Login throttling: five failures lock the username from that address for 15 minutes.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "jiayuan.accounts.views.locked_out"
AXES_ENABLED = env_bool("AXES_ENABLED", True)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# The project-wide stylesheet and scripts live beside the shared templates, outside any app.
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or DATA_DIR / "media")
MEDIA_STORAGE = env_str("MEDIA_STORAGE", "local")
if MEDIA_STORAGE == "local":
    _media_backend = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
elif MEDIA_STORAGE == "s3":
    # S3-compatible object storage; django-storages reads the AWS_* variables itself.
    _media_backend = {"BACKEND": "storages.backends.s3.S3Storage"}
else:
    raise ImproperlyConfigured("MEDIA_STORAGE must be local or s3")
STORAGES = {
    "default": _media_backend,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "jiayuan@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

TASK_BACKEND = env_str("TASK_BACKEND", "database")
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "dummy": "django_tasks.backends.dummy.DummyBackend",
}
if TASK_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(f"TASK_BACKEND must be one of {', '.join(_TASK_BACKENDS)}")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASK_BACKEND]}}

# Task workers prove they are alive every WORKER_HEARTBEAT_SECONDS. A task left running by a
# worker silent for WORKER_LOST_AFTER_SECONDS is queued again (its worker died), or failed
# once TASK_MAX_ATTEMPTS workers died running it: a job that kills its worker must not loop.
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 5)
WORKER_LOST_AFTER_SECONDS = env_int("WORKER_LOST_AFTER_SECONDS", 60)
TASK_MAX_ATTEMPTS = env_int("TASK_MAX_ATTEMPTS", 3)
if not 0 < 3 * WORKER_HEARTBEAT_SECONDS <= WORKER_LOST_AFTER_SECONDS:
    # Fewer than three missed beats would take a busy, living worker for a dead one.
    raise ImproperlyConfigured(
        "WORKER_LOST_AFTER_SECONDS must be at least three times WORKER_HEARTBEAT_SECONDS"
    )
if TASK_MAX_ATTEMPTS < 1:
    raise ImproperlyConfigured("TASK_MAX_ATTEMPTS must be at least 1")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# The product's own knobs.
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 50000)
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 20 * 1024 * 1024)

# Photos attached to service requests: how many per request and stage, and how large.
REQUEST_PHOTOS_MAX = 9
REQUEST_PHOTO_MAX_BYTES = env_int("REQUEST_PHOTO_MAX_BYTES", 10 * 1024 * 1024)
