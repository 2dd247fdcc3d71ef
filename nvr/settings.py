"""Settings for the NVR site.

Everything comes from the environment, with embedded defaults that need no
server: SQLite, the in-memory channel layer, a local cache, a local storage
folder and Celery on a filesystem broker. Setting ``DATABASE_URL``,
``REDIS_URL`` and ``CELERY_BROKER_URL`` runs the same code on PostgreSQL, Redis
and Redis/RabbitMQ. ``NVR_PRODUCTION=1`` refuses insecure defaults.
"""

import ipaddress
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from nvr.env import env_bool, env_float, env_int, env_list, env_optional, env_origins, env_str, normalise_origin

# Lets generic classes be subscripted at run time (ModelAdmin[Account], ...).
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("NVR_DATA_DIR", str(BASE_DIR / "var")))
DATA_DIR.mkdir(parents=True, exist_ok=True)

PRODUCTION = env_bool("NVR_PRODUCTION", False)

# Development only: NVR_PRODUCTION=1 refuses to start with it.
_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET_KEY)
DEBUG = env_bool("DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"])

# Master key for data encrypted at rest (camera source credentials; clips later).
# Each household's key is derived from it (accounts/crypto.py).
_DEV_MASTER_KEY = "dev-only-master-key-0123456789abcdef0123456789abcdef"
NVR_MASTER_KEY = env_str("NVR_MASTER_KEY", _DEV_MASTER_KEY)

if PRODUCTION:
    if NVR_MASTER_KEY == _DEV_MASTER_KEY or len(NVR_MASTER_KEY) < 32:
        raise ImproperlyConfigured("NVR_PRODUCTION=1 needs NVR_MASTER_KEY (32 or more random characters).")
    if SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured("NVR_PRODUCTION=1 needs a random SECRET_KEY of at least 50 characters.")
    if DEBUG:
        raise ImproperlyConfigured("NVR_PRODUCTION=1 refuses DEBUG=1.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("NVR_PRODUCTION=1 needs ALLOWED_HOSTS.")

INSTALLED_APPS = [
    "daphne",
    "accounts.apps.AccountsConfig",
    "devices.apps.DevicesConfig",
    "recordings.apps.RecordingsConfig",
    "notifications.apps.NotificationsConfig",
    "support.apps.SupportConfig",
    "accounts.apps.SupportAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # allauth's passkey and session pages use it
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "accounts.middleware.PrivateCacheMiddleware",
    # Before anything reads a body (inside the no-store one): a declared body over
    # DATA_UPLOAD_MAX_MEMORY_SIZE is a 413.
    "nvr.limits.RequestSizeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The person's time zone (chosen, else their browser's) for every time a page shows.
    "accounts.timezones.TimeZoneMiddleware",
    # ... and their language (chosen, else their browser's) for every word it shows.
    "accounts.languages.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.SessionActivityMiddleware",
    # After the session and user: answers a locked-out sign-in with the lockout page.
    "axes.middleware.AxesMiddleware",
    "accounts.middleware.TenantMiddleware",
    # Inside the household scope: an owner's "second factor required" applies to the active household.
    "accounts.middleware.SecondFactorRequiredMiddleware",
]

ROOT_URLCONF = "nvr.urls"
ASGI_APPLICATION = "nvr.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.tenancy",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# DATABASE_URL is the application's role. On PostgreSQL it must neither own the
# tables nor have BYPASSRLS; DATABASE_OWNER_URL names the role that owns them
# and runs migrations (see accounts/management/commands/migrate.py).
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}")
# No persistent connections (CONN_MAX_AGE 0, so no CONN_HEALTH_CHECKS either): under ASGI
# each request runs in a thread of its own and would leave its connection behind. A fresh
# connection per request also means a dropped one (PostgreSQL restarting, a terminated
# backend) fails only the requests in flight, which answer 503 (nvr/errors.py).
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that tests can run daphne as a separate process on it.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}
    # WAL and IMMEDIATE transactions let daphne and the worker share the file
    # without "database is locked" on concurrent writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
_owner_url = env_optional("DATABASE_OWNER_URL")
DATABASE_OWNER = dj_database_url.parse(_owner_url) if _owner_url else None
if DATABASE_OWNER and DATABASE_OWNER["NAME"] != DATABASES["default"]["NAME"]:
    raise ImproperlyConfigured("DATABASE_OWNER_URL must name the same database as DATABASE_URL.")
DATABASE_APP_ROLE = DATABASES["default"].get("USER") or ""
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and channel layer ----------------------------------------
REDIS_URL = env_optional("REDIS_URL")
if REDIS_URL:
    # NVR_CACHE_URL: another Redis database for the cache (the tests' own, emptied before each test).
    _cache_url = env_str("NVR_CACHE_URL", REDIS_URL)
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}}
    # channels-redis has two layers; pub/sub measured cheaper and faster here (README, "Benchmarks").
    _LAYERS = {
        "core": "channels_redis.core.RedisChannelLayer",
        "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
    }
    _layer = env_str("NVR_REDIS_CHANNEL_LAYER", "pubsub")
    if _layer not in _LAYERS:
        raise ImproperlyConfigured(f"NVR_REDIS_CHANNEL_LAYER={_layer!r}: use one of {sorted(_LAYERS)}.")
    CHANNEL_LAYERS = {"default": {"BACKEND": _LAYERS[_layer], "CONFIG": {"hosts": [REDIS_URL]}}}
    # Sessions read from the shared cache (no SQL per request), written to both. Only with a
    # cache every process shares: a sign-out in one process must end the session in all.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Celery ----------------------------------------------------------------
# The embedded default is kombu's filesystem transport: the worker is a real,
# separate process that shares nothing with the web process but a folder.
CELERY_BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://localhost//")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _folder in ("queue", "processed", "control"):
        (CELERY_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "store_processed": False,
    }
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
CELERY_WORKER_MAX_TASKS_PER_CHILD = 200
CELERY_WORKER_MAX_MEMORY_PER_CHILD = 512_000  # KiB
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery beat (``celery -A nvr worker -B`` in the demo, ``celery -A nvr beat`` in production).
# ``expires``: a run still queued when the next one is due is dropped, never stacked.
CELERY_BEAT_SCHEDULE = {
    "recordings-enforce-retention": {
        "task": "recordings.tasks.enforce_retention",
        "schedule": 15 * 60.0,
        "options": {"expires": 14 * 60},
    },
    "recordings-sweep": {
        "task": "recordings.tasks.sweep_recordings",
        "schedule": 24 * 3600.0,
        "options": {"expires": 12 * 3600},
    },
    # Uploads expire after RECORDINGS_UPLOAD_EXPIRY_HOURS: removed within the hour, not the next day.
    "recordings-hourly-cleanup": {
        "task": "recordings.tasks.hourly_cleanup",
        "schedule": 3600.0,
        "options": {"expires": 50 * 60},
    },
}

# --- Auth ------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:home"
# Sign-in, sign-up, password reset, email change, second factor and the sessions list are
# django-allauth's (README, "Signing in"); its adapters hook them to the households.
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out (email, address) pair before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_ADAPTER = "accounts.auth.adapters.AccountAdapter"
MFA_ADAPTER = "accounts.auth.adapters.MFAAdapter"
USERSESSIONS_ADAPTER = "accounts.auth.adapters.UserSessionsAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.auth.forms.HouseholdSignupForm"
# Mandatory, so that sign-up answers the same whether or not the address is registered
# (the address's owner gets an email instead): allauth's enumeration prevention needs it.
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_NOTIFICATIONS = True  # password and email changes, second-factor changes
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False  # this session stays; the others end (accounts.auth.adapters)
ACCOUNT_SESSION_REMEMBER = True
# Changing the email address (and the second factor) asks for the password again: a stolen
# session alone cannot move the account to another address.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[NVR] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if PRODUCTION else "http"
ACCOUNT_RATE_LIMITS = {
    # Wrong second-factor codes per person, and passwords per (email, address). Wrong
    # passwords per address whatever the account: NVR_SIGN_IN_FAILURES_PER_ADDRESS below.
    "login_failed": env_str("NVR_LOGIN_FAILED_RATE", "10/10m/key"),
    "signup": "10/10m/ip",
    # Per address only: a limit per email would let a stranger block the owner's resets.
    "reset_password": "10/10m/ip",
    "change_password": "5/10m/user",
    "reset_password_from_key": "20/10m/ip",
    "reauthenticate": "10/10m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", "NVR")
MFA_RATE_LIMITS = {"webauthn_login": "10/m/ip"}
# WebAuthn refuses plain http except on localhost; allauth then needs this flag in development.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION
# Sessions are recorded at sign-in; accounts.middleware.SessionActivityMiddleware refreshes them.
USERSESSIONS_TRACK_ACTIVITY = False
# The client's address: the connection's, or the one NVR_TRUSTED_PROXY_COUNT proxies in front
# of the site recorded in X-Forwarded-For (never a header the client chose). accounts/auth/client.py.
NVR_TRUSTED_PROXY_COUNT = env_int("NVR_TRUSTED_PROXY_COUNT", 0)
# django-axes: the lock is on an (email, client address) pair, so a stranger elsewhere cannot
# lock an owner out; the same for an address with no account behind it.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "accounts.auth.client.client_throttle_key"
AXES_USERNAME_CALLABLE = "accounts.auth.client.login_of"
AXES_LOCKOUT_TEMPLATE = "account/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# Device tokens and invitation links: failed attempts per client address in a window.
NVR_FAILED_ATTEMPTS_PER_ADDRESS = env_int("NVR_FAILED_ATTEMPTS_PER_ADDRESS", 30)
# Wrong passwords per client address (an IPv6 /64), whatever the account, in the same window.
# Only failures count, so many people signing in from one address never trip it.
NVR_SIGN_IN_FAILURES_PER_ADDRESS = env_int("NVR_SIGN_IN_FAILURES_PER_ADDRESS", 30)
NVR_FAILED_ATTEMPTS_WINDOW_S = env_int("NVR_FAILED_ATTEMPTS_WINDOW_S", 600)
# "Test connection" while adding a camera makes the server connect out: tests per person in a window.
NVR_CAMERA_TESTS_PER_USER = env_int("NVR_CAMERA_TESTS_PER_USER", 10)
NVR_CAMERA_TESTS_WINDOW_S = env_int("NVR_CAMERA_TESTS_WINDOW_S", 600)
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 14 * 24 * 3600)

# --- Support staff ------------------------------------------------------------
# One audit entry per staff person, household and page within this window (a list paged
# through or reloaded is one read in the household's history, not dozens).
NVR_SUPPORT_AUDIT_DEDUPE_S = env_int("NVR_SUPPORT_AUDIT_DEDUPE_S", 300)
# The longest support grant an owner can give.
NVR_SUPPORT_GRANT_MAX_HOURS = env_int("NVR_SUPPORT_GRANT_MAX_HOURS", 72)

# --- Storage and static files ----------------------------------------------
# Media is never served from a public URL: files go through scoped views only.
MEDIA_ROOT = DATA_DIR / "media"
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every start without it
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": None},
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
# Files browsers ask for at the site's root (/favicon.ico), served as they are by whitenoise.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"

# --- REST framework ----------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.api.permissions.HasActiveAccount"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Services' Django ValidationError as a 400 (PermissionDenied is DRF's 403 already).
    "EXCEPTION_HANDLER": "accounts.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "NVR API",
    "DESCRIPTION": "Households' cameras, members and access history; cameras authenticate with a device token.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs are for people who use the site: signed in (the docs page
    # redirects to the sign-in page, nvr/urls.py).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",  # served from this site: no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "CameraKindEnum": "devices.models.CameraKind.choices",
        "AccessKindEnum": "accounts.models.AccessKind.choices",
    },
}

# --- Live video ---------------------------------------------------------------
LIVE_MAX_FRAME_BYTES = env_int("LIVE_MAX_FRAME_BYTES", 1_000_000)
LIVE_MAX_FPS = env_int("LIVE_MAX_FPS", 30)
# Frames a viewer may have unacknowledged: bounds what the server buffers for
# a slow viewer whatever the ASGI server does with its write buffer.
LIVE_VIEWER_CREDITS = env_int("LIVE_VIEWER_CREDITS", 2)
# An MP4 viewer's browser acks in batches (``ack N``); what it may hold unacknowledged is
# bounded in messages and, beyond one message, in bytes (a second or two of video).
LIVE_MP4_CREDITS = env_int("LIVE_MP4_CREDITS", 30)
LIVE_MP4_WINDOW_BYTES = env_int("LIVE_MP4_WINDOW_BYTES", 1_000_000)
# Safety net behind the revocation events: how often an open socket re-checks access.
LIVE_RECHECK_SECONDS = env_int("LIVE_RECHECK_SECONDS", 5)

# --- Pull cameras (devices.ingest.IngestConfig) ---------------------------------
INGEST_MAX_FPS = env_float("INGEST_MAX_FPS", 10.0)  # per camera; manage.py ingest_pull_cameras --max-fps
INGEST_OPEN_TIMEOUT_S = env_float("INGEST_OPEN_TIMEOUT_S", 10.0)
# Also how long a stopped camera's reading thread may still block in OpenCV.
INGEST_READ_TIMEOUT_S = env_float("INGEST_READ_TIMEOUT_S", 10.0)
# Reconnection delays: the base, doubled per failed attempt up to the maximum.
INGEST_BACKOFF_BASE_S = env_float("INGEST_BACKOFF_BASE_S", 1.0)
INGEST_BACKOFF_MAX_S = env_float("INGEST_BACKOFF_MAX_S", 30.0)
INGEST_REPORT_EVERY_S = env_float("INGEST_REPORT_EVERY_S", 2.0)  # between two "online, n fps" status updates
# Where the stream readers write recorded files (plaintext, one private folder per
# connection) until the recorder stores them encrypted and removes them.
INGEST_SEGMENTS_DIR = Path(env_str("INGEST_SEGMENTS_DIR", str(DATA_DIR / "segments")))
# The stream reader child (devices/ingest/reader_child.py): its address-space limit, and the
# share of one CPU core it may use on average over INGEST_READER_CPU_WINDOW_S before it is stopped.
INGEST_READER_MEMORY_MB = env_int("INGEST_READER_MEMORY_MB", 1024)
INGEST_READER_MAX_CPU = env_float("INGEST_READER_MAX_CPU", 0.9)
INGEST_READER_CPU_WINDOW_S = env_float("INGEST_READER_CPU_WINDOW_S", 30.0)
# Camera addresses may not reach the server's own networks (devices/addresses.py): these
# CIDRs are allowed anyway, e.g. "192.168.1.0/24" for cameras on the operator's LAN. Empty
# (the default) allows none; cloud metadata addresses are refused even when listed.
NVR_CAMERA_ALLOWED_NETWORKS = env_list("NVR_CAMERA_ALLOWED_NETWORKS", [])
for _network in NVR_CAMERA_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"NVR_CAMERA_ALLOWED_NETWORKS: {_network!r} is not a network (CIDR).") from None

# --- Recordings -----------------------------------------------------------------
# The largest clip a camera may upload (bytes); a larger declared size is a 413 before any body.
RECORDINGS_MAX_UPLOAD_BYTES = env_int("RECORDINGS_MAX_UPLOAD_BYTES", 2 * 1024**3)
# The largest body of one upload request (tus PATCH or creation-with-upload): daphne
# holds a request's whole body in memory, so this bounds the server's memory per upload.
RECORDINGS_MAX_CHUNK_BYTES = env_int("RECORDINGS_MAX_CHUNK_BYTES", 8 * 1024 * 1024)
# The most a player gets per Range request of a clip (a few seconds of 1080p): daphne has
# no write back-pressure, so a longer answer would wait in memory for a slow player.
RECORDINGS_MAX_RANGE_BYTES = env_int("RECORDINGS_MAX_RANGE_BYTES", 8 * 1024 * 1024)
# Django's ASGI handler spools a request body over this size to a temporary file: an
# upload part is plaintext video, so it stays in memory (one part plus headroom).
# daphne itself still writes bodies over 100 kB to an unlinked temporary file before
# Django runs: in production TMPDIR must be a tmpfs or an encrypted volume.
FILE_UPLOAD_MAX_MEMORY_SIZE = RECORDINGS_MAX_CHUNK_BYTES + 64 * 1024
# An upload not completed within this many hours is removed with its partial file.
RECORDINGS_UPLOAD_EXPIRY_HOURS = env_int("RECORDINGS_UPLOAD_EXPIRY_HOURS", 24)
# A new household's storage quota (GB); owners change theirs in the household settings.
NVR_DEFAULT_STORAGE_QUOTA_GB = env_int("NVR_DEFAULT_STORAGE_QUOTA_GB", 20)
# The largest quota an owner may choose (GB): the operator's disk is shared by every household.
NVR_MAX_QUOTA_GB = env_int("NVR_MAX_QUOTA_GB", 1000)
if not 1 <= NVR_DEFAULT_STORAGE_QUOTA_GB <= NVR_MAX_QUOTA_GB:
    raise ImproperlyConfigured(
        f"NVR_DEFAULT_STORAGE_QUOTA_GB={NVR_DEFAULT_STORAGE_QUOTA_GB} must be between 1 and NVR_MAX_QUOTA_GB "
        f"({NVR_MAX_QUOTA_GB})."
    )
# Bytes a household may have in flight (declared lengths of its open uploads, not yet stored):
# partial files live on the server's disk outside the quota, so this bounds them (507 beyond).
RECORDINGS_MAX_INFLIGHT_BYTES = env_int("RECORDINGS_MAX_INFLIGHT_BYTES", 4 * 1024 * 1024 * 1024)
# Open uploads per camera (429 beyond): a camera sends its clips one or two at a time; more
# is a loop creating uploads it never finishes, each holding a partial file until it expires.
RECORDINGS_MAX_OPEN_UPLOADS_PER_CAMERA = env_int("RECORDINGS_MAX_OPEN_UPLOADS_PER_CAMERA", 4)
# Limits of the isolated decoding process, per clip.
RECORDINGS_PROCESS_TIMEOUT_S = env_int("RECORDINGS_PROCESS_TIMEOUT_S", 120)
RECORDINGS_PROCESS_MEMORY_MB = env_int("RECORDINGS_PROCESS_MEMORY_MB", 1024)
# The processing task's Celery limits: above the isolated child's two runs (remux, analysis).
# The soft limit ends the clip as failed ("processing took too long"); the hard one kills the worker child.
RECORDINGS_PROCESS_SOFT_TIME_LIMIT_S = env_int(
    "RECORDINGS_PROCESS_SOFT_TIME_LIMIT_S", 2 * RECORDINGS_PROCESS_TIMEOUT_S + 60
)
RECORDINGS_PROCESS_TIME_LIMIT_S = RECORDINGS_PROCESS_SOFT_TIME_LIMIT_S + 60
# A live attempt renews its processing claim every quarter of this (recordings/processing.py); a
# claim not renewed for this long belongs to a dead worker, and the requeue (beat, every
# RECORDINGS_REQUEUE_EVERY_S) or a redelivered message takes the clip over.
RECORDINGS_PROCESSING_STALE_S = env_float("RECORDINGS_PROCESSING_STALE_S", 60.0)
RECORDINGS_REQUEUE_EVERY_S = env_float("RECORDINGS_REQUEUE_EVERY_S", 60.0)
# A killed worker's clips: the embedded broker never redelivers their task (README, "When a worker dies").
CELERY_BEAT_SCHEDULE["recordings-requeue-stale-processing"] = {
    "task": "recordings.tasks.requeue_stale_processing",
    "schedule": RECORDINGS_REQUEUE_EVERY_S,
    "options": {"expires": RECORDINGS_REQUEUE_EVERY_S},
}
# Where a worker decrypts a clip to process it (private folders, 0700, removed after each clip; a
# killed worker's are removed on worker start, hourly and by the sweep). Local, on the workers' host.
RECORDINGS_PROCESSING_DIR = Path(env_str("RECORDINGS_PROCESSING_DIR", str(DATA_DIR / "processing")))
# The sweep leaves alone files younger than this (an upload stores its clip just before its row).
RECORDINGS_SWEEP_GRACE_MINUTES = env_int("RECORDINGS_SWEEP_GRACE_MINUTES", 60)
# Rows deleted per transaction by retention and quota pruning.
RECORDINGS_PRUNE_BATCH = env_int("RECORDINGS_PRUNE_BATCH", 200)
# One process records a pull camera at a time: its lease lasts this long, renewed every
# third of it; a dead process's cameras are taken over within about 1.3 times this.
RECORDER_LEASE_S = env_int("RECORDER_LEASE_S", 30)

# --- Mail ------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# For EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend (the browser tests read mail there).
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(DATA_DIR / "mail"))
# The site's public address, for links in emails (verification, invitations).
# localhost, not 127.0.0.1: browsers refuse passkeys (WebAuthn) on an IP-address origin.
SITE_URL = env_str("SITE_URL", "http://localhost:8000").rstrip("/")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "nvr@localhost")

# --- Notifications (notifications/) -----------------------------------------
# At most one notification per camera in this many seconds (two clips in a row: one message).
NVR_NOTIFY_MIN_INTERVAL_S = env_int("NVR_NOTIFY_MIN_INTERVAL_S", 60)
# Webhook delivery: seconds per attempt, and retries after the first (exponential backoff, jitter).
NVR_WEBHOOK_TIMEOUT_S = env_float("NVR_WEBHOOK_TIMEOUT_S", 10.0)
NVR_WEBHOOK_MAX_RETRIES = env_int("NVR_WEBHOOK_MAX_RETRIES", 6)
# Web Push (notifications/push.py): the site's VAPID key pair. In production give the private
# key (PEM) in NVR_VAPID_PRIVATE_KEY; otherwise `manage.py vapid_keys` makes it once in this file.
NVR_VAPID_PRIVATE_KEY = env_str("NVR_VAPID_PRIVATE_KEY", "")
NVR_VAPID_KEY_FILE = Path(env_str("NVR_VAPID_KEY_FILE", str(DATA_DIR / "vapid-private-key.pem")))
# Who push services may contact about this site's messages (RFC 8292 "sub"): mailto: or https:.
NVR_VAPID_SUBJECT = env_str("NVR_VAPID_SUBJECT", f"mailto:{DEFAULT_FROM_EMAIL}")
# Push deliveries: seconds per attempt, retries after the first (the webhook's backoff), and how
# long a push service keeps a message for a browser that is offline (TTL).
NVR_PUSH_TIMEOUT_S = env_float("NVR_PUSH_TIMEOUT_S", 10.0)
NVR_PUSH_MAX_RETRIES = env_int("NVR_PUSH_MAX_RETRIES", 6)
NVR_PUSH_TTL_S = env_int("NVR_PUSH_TTL_S", 3600)

# --- Security headers --------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
# The exact origins (scheme, host, port) browsers reach the site at. Browser websockets
# from any other origin, or without one, are refused (nvr/origins.py); CSRF trusts the
# same list. Default: SITE_URL's origin, and in development its twin on the other
# loopback name (the demo prints localhost; people also type 127.0.0.1).
_site_origin = normalise_origin(SITE_URL)
if _site_origin is None:
    raise ImproperlyConfigured(f"SITE_URL={SITE_URL!r} is not an http(s) address.")
_default_origins = [_site_origin]
for _a, _b in (("//localhost", "//127.0.0.1"), ("//127.0.0.1", "//localhost")):
    if not PRODUCTION and _a in _site_origin:
        _default_origins.append(_site_origin.replace(_a, _b, 1))
NVR_ALLOWED_ORIGINS = env_origins("NVR_ALLOWED_ORIGINS", _default_origins)
CSRF_TRUSTED_ORIGINS = env_origins("CSRF_TRUSTED_ORIGINS", NVR_ALLOWED_ORIGINS)

# Content-Security-Policy (django-csp): only this site's own files run, and no inline
# script or style attribute at all, so an HTML injection cannot run code or restyle a page
# into a phishing form. Pages keep their JavaScript in static/js/ and their styles in
# static/css/; the API docs page adds data: images for Swagger UI's icons (nvr/views.py).
# Live pictures are drawn from blob: URLs (static/js/live.js); clips may later be fed
# through Media Source (blob:). Live sockets: exactly the site's origins, as ws(s)://.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "blob:"],
        "media-src": ["'self'", "blob:"],
        "connect-src": ["'self'", *(origin.replace("http", "ws", 1) for origin in NVR_ALLOWED_ORIGINS)],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env_bool("NVR_BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# English and French. Each person's language is the one they chose, else their browser's
# (accounts/languages.py). Catalogues: locale/, compiled by bin/messages (never committed).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date and one time format per language, used by every page (nvr/formats/<lang>/formats.py).
FORMAT_MODULE_PATH = ["nvr.formats"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # axes logs every successful sign-in at INFO; failures and lockouts are WARNING.
    "loggers": {"django.db.backends": {"level": "INFO"}, "axes": {"level": "WARNING"}},
}
