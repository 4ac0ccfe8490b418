"""Settings for Contract Monitor, read from the environment.

With nothing set, the app runs on SQLite in a local file and Celery tasks run
in-process (the embedded default), so a newcomer needs only Python. Setting
``DATABASE_URL`` and ``CELERY_BROKER_URL`` moves it to PostgreSQL and Redis with
real workers. Every variable read here is documented in the README.
"""

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from operations.logs import log_format, logging_config

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

# SECRET_KEY signs sessions, cookies and invitation links. Without one in the
# environment the settings carry a public development key, so management commands
# (migrations, checks, load_demo) and the tests need nothing; the web entry points
# (config/wsgi.py, config/asgi.py: gunicorn, runserver) refuse to serve with DEBUG off
# on it (config.serving.require_secret_key), and `check --deploy` flags it (W009).
SECRET_KEY = os.environ.get("SECRET_KEY", "")
SECRET_KEY_FROM_ENVIRONMENT = bool(SECRET_KEY)
if not SECRET_KEY:
    SECRET_KEY = "django-insecure-contract-monitor-development-key-not-for-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

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
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Redoc for /api/docs/ from our own static files
    "import_export",
    "simple_history",
    "django_htmx",
    "csp",
    "kpis",
    "contracts",
    "retained_services",
    "reports",
    "operations",
    "identity",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "accounts",
]

MIDDLEWARE = [
    "operations.middleware.RequestIdMiddleware",  # first: times and tags everything
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = "config.urls"

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
                "contracts.context_processors.branding",
                "contracts.notifications.context",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# Embedded default: SQLite in a local file. DATABASE_URL moves to PostgreSQL.
SQLITE_PATH = os.environ.get("SQLITE_PATH", str(BASE_DIR / "var" / "db.sqlite3"))
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{SQLITE_PATH}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Writers take the lock when their transaction begins, so two people saving at once
    # wait for each other instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache: this process's memory by default; Redis shared by every web host when
# CACHE_URL (or REDIS_URL) is set, through Django's RedisCache made safe to lose
# (operations.cache: with Redis unreachable a read misses and a write is dropped).
# Sessions are in the database, never in a process or the cache, so any web host can
# serve anyone and a lost Redis signs no one out.
CACHE_URL = os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL", "")
if CACHE_URL:
    _cache_timeout = float(os.environ.get("CACHE_SOCKET_TIMEOUT", "1"))
    CACHES = {
        "default": {
            "BACKEND": "operations.cache.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "contract-monitor",
            "OPTIONS": {
                "socket_connect_timeout": _cache_timeout,
                "socket_timeout": _cache_timeout,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SESSION_ENGINE = "django.contrib.sessions.backends.db"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
# Front-end packages come from the npm registry (package.json, pinned by
# package-lock.json); only their distributed folders are served.
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("govuk", NODE_MODULES / "govuk-frontend" / "dist" / "govuk"),
    ("htmx", NODE_MODULES / "htmx.org" / "dist"),
]
# Uploaded files go through Django's storage API: a local folder (MEDIA_ROOT) by default,
# or S3-compatible object storage (django-storages) shared by every web and worker host
# with STORAGE_BACKEND=s3 (the default once AWS_STORAGE_BUCKET_NAME is set). Credentials
# are read by boto3 itself (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the host's role).
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
STORAGE_BACKEND = os.environ.get("STORAGE_BACKEND") or (
    "s3" if AWS_STORAGE_BUCKET_NAME else "filesystem"
)
if STORAGE_BACKEND == "s3":
    if not AWS_STORAGE_BUCKET_NAME:
        raise ImproperlyConfigured("STORAGE_BACKEND=s3 needs AWS_STORAGE_BUCKET_NAME.")
    _s3_options = {
        "bucket_name": AWS_STORAGE_BUCKET_NAME,
        "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
        "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
        "addressing_style": os.environ.get("AWS_S3_ADDRESSING_STYLE") or None,
        "location": os.environ.get("AWS_LOCATION", ""),
        "default_acl": None,  # private: the bucket's policy decides
        "querystring_auth": True,  # links to files are signed and expire
        "file_overwrite": False,  # an upload never replaces another of the same name
    }
    DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {k: v for k, v in _s3_options.items() if v is not None or k == "default_acl"},
    }
elif STORAGE_BACKEND == "filesystem":
    DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
else:
    raise ImproperlyConfigured(f"STORAGE_BACKEND must be filesystem or s3, not {STORAGE_BACKEND!r}.")
# django-import-export keeps an admin import's file between its preview and its
# confirmation; in the default storage, so the confirmation may reach another web host.
IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.MediaStorage"
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_MANIFEST_STRICT = False

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username and address before any backend checks them.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Single sign-on through the organisation's identity provider (identity/); it
    # signs no one in unless OIDC_RP_CLIENT_ID is set.
    "identity.backends.OrganisationOIDCBackend",
]

# Single sign-on (OpenID Connect, mozilla-django-oidc): off unless OIDC_RP_CLIENT_ID is
# set. Who may sign in, and as whom, is decided by the sign-in rules an admin keeps
# (identity.SignInRule). The provider's endpoints are given explicitly.
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_RP_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_RP_CLIENT_SECRET", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("OIDC_OP_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("OIDC_OP_USER_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("OIDC_OP_JWKS_ENDPOINT", "")
OIDC_OP_ISSUER = os.environ.get("OIDC_OP_ISSUER", "")
OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = os.environ.get("OIDC_RP_SCOPES", "openid email profile")
OIDC_GROUPS_CLAIM = os.environ.get("OIDC_GROUPS_CLAIM", "groups")
OIDC_USE_PKCE = env_bool("OIDC_USE_PKCE", True)
OIDC_TIMEOUT = float(os.environ.get("OIDC_TIMEOUT", "10"))
OIDC_AUTHENTICATION_CALLBACK_URL = "sso:callback"
# django-axes leaves the single sign-on callback alone: it has no password to guess, and
# its refusals, which carry no username, would lock a whole office out of it.
AXES_WHITELIST_CALLABLE = "identity.backends.is_single_sign_on_callback"
if OIDC_RP_CLIENT_ID:
    _missing = [
        name
        for name in (
            "OIDC_RP_CLIENT_SECRET",
            "OIDC_OP_AUTHORIZATION_ENDPOINT",
            "OIDC_OP_TOKEN_ENDPOINT",
            "OIDC_OP_USER_ENDPOINT",
            "OIDC_OP_JWKS_ENDPOINT",
        )
        if not globals()[name]
    ]
    if _missing:
        raise ImproperlyConfigured(
            "Single sign-on is on (OIDC_RP_CLIENT_ID is set) but these are not: " + ", ".join(_missing)
        )
# How long an emailed invitation to join an organisation stays usable.
INVITATION_MAX_AGE_DAYS = int(os.environ.get("INVITATION_MAX_AGE_DAYS", "7"))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Signing in (accounts/). django-axes: after AXES_FAILURE_LIMIT failed sign-ins for one
# username from one address, that pair is locked out for AXES_COOLOFF_MINUTES (a try
# meanwhile starts the wait again); a success clears the count.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = int(os.environ.get("AXES_COOLOFF_MINUTES", "30")) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
# Behind proxies the address is the last proxy's, unless X-Forwarded-For is trusted:
# AXES_IPWARE_PROXY_COUNT is how many proxies stand in front of the app.
if os.environ.get("AXES_IPWARE_PROXY_COUNT"):
    AXES_IPWARE_PROXY_COUNT = int(os.environ["AXES_IPWARE_PROXY_COUNT"])
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
# Two-factor authentication (TOTP, django-otp; accounts/twofactor.py): required of staff,
# commissioners and admins signing in with a password, and asked of anyone who has set
# it up. Off, no one is asked (development: the sign-in page says so).
TWO_FACTOR_REQUIRED = env_bool("TWO_FACTOR_REQUIRED", not DEBUG)
OTP_ADMIN_HIDE_SENSITIVE_DATA = True


def _totp_issuer(device: object) -> str:
    # The name an authenticator app shows beside the code.
    return SITE_NAME


OTP_TOTP_ISSUER = _totp_issuer

# Production hardening: on whenever DEBUG is off (check --deploy stays clean).
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^healthz/live$"]
# Idle timeout: a session ends this long after its last request (each request saves it,
# moving its expiry on).
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_SECONDS", str(30 * 60)))
SESSION_SAVE_EVERY_REQUEST = True
X_FRAME_OPTIONS = "DENY"


# Content Security Policy (django-csp). Scripts and styles come from the app's own static
# files or carry the request's nonce (nonce="{{ request.csp_nonce }}"): no inline script
# otherwise, no event-handler attribute, no javascript: link, no eval, no inline style
# attribute. No plugin, no framing by another site (as X_FRAME_OPTIONS), and forms post
# only here or to the single sign-on provider (a browser applies form-action to the
# redirects that follow a post too): the origin of OIDC_OP_AUTHORIZATION_ENDPOINT and
# any origins listed in CSP_FORM_ACTION.
def csp_sources(name: str, *extra: str) -> list[str]:
    sources = [*extra, *env_list(name, "")]
    for source in sources:
        if not re.fullmatch(r"(https?://)?[A-Za-z0-9*.-]+(:[0-9]+)?(/[^\s;,'\"]*)?", source):
            raise ImproperlyConfigured(
                f"{name}: {source!r} is not a source such as https://login.example.org"
            )
    return sources


# Lower-case names: django-csp takes settings named CSP_* for its old, pre-4.0 format.
_sign_on = urlsplit(OIDC_OP_AUTHORIZATION_ENDPOINT)
_form_action = csp_sources(
    "CSP_FORM_ACTION", *([f"{_sign_on.scheme}://{_sign_on.netloc}"] if _sign_on.netloc else [])
)
_report_uri = os.environ.get("CSP_REPORT_URI", "")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF, *_form_action],
        **({"report-uri": [_report_uri]} if _report_uri else {}),
    },
}
# What the API documentation page (Redoc, from drf-spectacular-sidecar) adds, and only
# there (config/urls.py): its search runs in a worker made from a blob: URL, and as its
# bundle loads, before it can be given the nonce, it inserts two style elements, allowed
# by their hashes: an empty one, and perfect-scrollbar's styles. Should a new sidecar
# version change those styles, tests/browser/test_csp_browser.py fails naming the hash.
API_DOCS_CSP = {
    "worker-src": [SELF, "blob:"],
    "style-src": [
        "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
        "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
    ],
}


# API rate limits: requests per person (token or session, whichever signs them in) and
# per address for anonymous calls, counted in the cache; over the limit the API answers
# 429 with Retry-After. A rate is "<number>/<second|minute|hour|day>".
def env_rate(name: str, default: str) -> str:
    rate = os.environ.get(name, "").strip() or default
    if not re.fullmatch(r"[1-9][0-9]*/(second|minute|hour|day)", rate):
        raise ImproperlyConfigured(
            f"{name}: {rate!r} is not a rate such as 600/minute "
            "(a number, a slash, then second, minute, hour or day)"
        )
    return rate


API_RATE_USER = env_rate("API_RATE_USER", "600/minute")
API_RATE_ANON = env_rate("API_RATE_ANON", "60/minute")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an anonymous request gets 401 with WWW-Authenticate.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "contracts.api_pagination.Pages",
    "PAGE_SIZE": 50,
    # Request bodies are JSON (the documented shapes nest lists and objects).
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "COERCE_DECIMAL_TO_STRING": True,
    # Rates read per request (config/throttling.py), from API_RATE_USER and API_RATE_ANON.
    "DEFAULT_THROTTLE_CLASSES": [
        "config.throttling.AnonRateThrottle",
        "config.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {"anon": API_RATE_ANON, "user": API_RATE_USER},
    # Behind N trusted proxies the client is the Nth address from the right of
    # X-Forwarded-For; 0 takes the connection's own address, which nobody can forge.
    "NUM_PROXIES": int(os.environ.get("API_NUM_PROXIES", "0")),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Contract Monitor API",
    "DESCRIPTION": "Contracts, measures, verdicts and monthly returns.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The documentation page loads Redoc from drf-spectacular-sidecar's static files,
    # never a CDN.
    "REDOC_DIST": "SIDECAR",
    # "kind" names three vocabularies: a measure's (kpi, supporting, mi), what a return
    # owes, and a retained-service dataset's.
    "ENUM_NAME_OVERRIDES": {
        "KindEnum": "kpis.models.Kind",
        "OwedKindEnum": "contracts.api.OWED_KINDS",
        "DatasetKindEnum": "retained_services.models.Dataset.Kind",
    },
}

# Celery: with no broker set, tasks run in-process (the embedded default).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if not CELERY_BROKER_URL:
    # In-process tasks still pass through a producer: name an in-memory one, or Celery
    # falls back to (and warns about) an AMQP server on localhost.
    CELERY_BROKER_WRITE_URL = "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# Tasks are idempotent, so a message is acknowledged only once its task has run: a
# worker that dies mid-task leaves it to be delivered again (after the visibility
# timeout, with Redis). One message at a time per worker process, for the same reason.
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing from a web request must fail fast when the broker is down, never hang:
# a short connect timeout and at most one quick retry (kombu's default retries for
# ever). Workers reconnect by their own policy (broker_connection_max_retries).
CELERY_BROKER_CONNECTION_TIMEOUT = float(os.environ.get("CELERY_BROKER_CONNECTION_TIMEOUT", "2"))
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
    "socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# The schedule, in code. Run exactly one beat. The daily job acts on whatever is due
# (crontab has no "last day of the month"), so it also catches up after downtime.
CELERY_BEAT_SCHEDULE = {
    "month-end-daily": {
        "task": "contracts.tasks.daily_job",
        "schedule": crontab(hour=6, minute=0),  # Europe/London (CELERY_TIMEZONE)
    },
    "deliver-notifications": {
        "task": "contracts.tasks.deliver_notifications",
        "schedule": 60.0,
        # A run not started within the minute is overtaken by the next one.
        "options": {"expires": 55},
    },
}

# Email: the console in development; SMTP (or another backend) from the environment.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "contract-monitor@localhost")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
# The file backend's folder (EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend).
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
# The address people reach the app at, for links in emails.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

# Spreadsheet uploads larger than this are refused before they are read.
IMPORT_MAX_UPLOAD_BYTES = int(os.environ.get("IMPORT_MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))

# The organisation running the deployment shows its own name; never the GOV.UK crown.
SITE_NAME = os.environ.get("SITE_NAME", "Contract Monitor")

# Logs (operations.logs): LOG_FORMAT=plain (the default: a line of text) or json (one
# JSON object a line, for a log collector; docker-compose.yml sets it). Lines logged
# during a request carry its request_id; lines logged by a Celery task carry its task_id.
try:
    LOG_FORMAT = log_format(os.environ)
except ValueError as exc:
    raise ImproperlyConfigured(str(exc)) from None
LOGGING = logging_config(LOG_FORMAT, os.environ.get("LOG_LEVEL", "INFO"))
LOGGING_CONFIG = "operations.logs.configure"
