"""Django settings, read from the process environment (django-environ). No file is read: `.env`
is docker compose's (it substitutes it into docker-compose.yml); `make` passes the per-clone key
in `.local-secret-key`; the tests use tests/settings.py. README "Configuration" lists them all.

SECRET_KEY          required unless DEBUG: at least 50 characters, not a published default
DATABASE_URL        default sqlite:///<repo>/db.sqlite3 (the embedded default)
CELERY_BROKER_URL   unset: tasks run eagerly in-process; e.g. redis://127.0.0.1:6379/0
CACHE_URL           default a per-process memory cache; with several processes or hosts set a
                    shared one (redis://127.0.0.1:6379/1): login lockouts and API throttles count there
BEHIND_TLS_PROXY    1 behind a TLS-terminating proxy: HTTPS redirect, secure cookies, HSTS
FENXIAO_PUBLIC_URL  default http://127.0.0.1:8000: the address distributors reach this server at,
                    for the links it hands out (invite links of tenants without their own
                    invite_url_template, password reset links)
MEDIA_ROOT          default <repo>/media: uploaded materials (poster images, documents)
PASSWORD_RESET_HOURS default 24: how long a staff-issued password reset link is valid
DEBUG, ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS as usual.
"""
from datetime import timedelta
from pathlib import Path

import environ

from fenxiao.secret_key import resolve_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
# Outside DEBUG a missing, short or published key refuses to start (ImproperlyConfigured): tokens
# and sessions signed with a public key could be forged by anyone.
SECRET_KEY = resolve_secret_key(env.str("SECRET_KEY", default=""), debug=DEBUG)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver", "web"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    # The proxy terminates TLS and sets X-Forwarded-Proto (and overwrites any the client sent).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)  # one year
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

INSTALLED_APPS = [
    "fenxiao.apps.FenxiaoAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "django_celery_beat",
    "simple_history",
    "import_export",
    "tenants",
    "distributors",
    "orders",
    "commissions",
    "ledger",
    "incentives",
    "relations",
    "risk",
    "reports",
    "webhooks",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # the language of the request (after sessions, before CommonMiddleware): see LANGUAGES below
    "fenxiao.middleware.LocaleMiddleware",
    "fenxiao.middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tenants.middleware.StaffTenantMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "fenxiao.urls"

WSGI_APPLICATION = "fenxiao.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "fenxiao" / "templates"],
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

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Serialise writers instead of failing with "database is locked": a transaction takes the write
    # lock when it begins (BEGIN IMMEDIATE) and waits up to 30 s for it, instead of failing on the
    # read-to-write upgrade a select_for_update-then-write transaction would need.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 30, "transaction_mode": "IMMEDIATE"})
else:
    # Keep connections between requests and tasks (a new PostgreSQL connection costs ~10 ms, more
    # than a whole portal page); checked before reuse. DB_CONN_MAX_AGE=0 closes after each request;
    # a ?CONN_MAX_AGE= in DATABASE_URL wins.
    if "CONN_MAX_AGE=" not in env.str("DATABASE_URL"):
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=300)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# The hot paths' raw statements (fenxiao.bulk.query) run as prepared statements of their
# connection (parsed and planned once per connection). Turn off behind a transaction-pooling
# PgBouncer, which cannot keep a connection's prepared statements (Django's own queries never
# prepare, for the same reason).
DB_PREPARED_STATEMENTS = env.bool("DB_PREPARED_STATEMENTS", default=True)

# The cache holds login failure counters, lockouts and rate-limit windows (tenants.login_guard,
# fenxiao.api.throttles). The default is this process's memory (the demo, the tests); with several
# gunicorn workers or hosts every process would count alone, so production sets CACHE_URL to a
# shared Redis (docker-compose.yml does; `check --deploy` warns otherwise: fenxiao.W001).
CACHES = {"default": env.cache_url_config(env.str("CACHE_URL", default="") or "locmemcache://fenxiao")}
if CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 100_000)  # no early culling of lockouts

# Login abuse (domain rules section 1; tenants.login_guard). Every attempt on the distributor and
# staff token endpoints and the admin login counts against its client address and its account
# (per minute); failed ones also count towards a lockout of the account (from any address) and of
# the address (across accounts), lifted LOGIN_LOCKOUT_SECONDS after it began.
LOGIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS = env.int("LOGIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS", default=30)
LOGIN_ATTEMPTS_PER_MINUTE_PER_ACCOUNT = env.int("LOGIN_ATTEMPTS_PER_MINUTE_PER_ACCOUNT", default=10)
LOGIN_FAILURES_PER_ACCOUNT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=10)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=50)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=15 * 60)
# Sign-ups through an invite link (the portal's join page) per client address and clock minute.
JOIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS = env.int("JOIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS", default=10)
# Partner API keys: requests per minute per key unless the tenant's api_rate_per_minute says otherwise.
PARTNER_API_RATE_PER_MINUTE = env.int("PARTNER_API_RATE_PER_MINUTE", default=6000)
# Client address: the number of proxies in front that append to X-Forwarded-For (one behind the
# TLS proxy); 0 takes REMOTE_ADDR and ignores the header, which any client can write.
NUM_PROXIES = env.int("NUM_PROXIES", default=1 if BEHIND_TLS_PROXY else 0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Passwords are stored with Django's default hashers (PBKDF2-SHA256, Django's iteration count; a
# weaker stored hash is upgraded at the next right login). New staff passwords (create_staff, the
# admin's forms) are checked by Django's four standard validators.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Languages (README "Languages"): Chinese first, English kept (the source language of every
# string). A request's language is the one its user chose (the console's language chooser posts to
# /i18n/setlang/, which sets the django_language cookie), else the first of its Accept-Language
# that fenxiao speaks (zh, zh-CN, zh-Hans... -> zh-hans; en-US... -> en), else LANGUAGE_CODE for
# the console and API_LANGUAGE_CODE for the API (/api/): a client that states no language is a
# program, and its error details stay in English as before; `code` is what it branches on.
LANGUAGE_CODE = "zh-hans"
API_LANGUAGE_CODE = "en"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# The project's own strings (fenxiao/: the console's templates, the API's plumbing) are in
# fenxiao/locale, each app's in <app>/locale. All are listed here, so that they win over the
# catalogues of the packages above the apps in INSTALLED_APPS for a string both have (Django would
# otherwise prefer the earlier app's: "Disabled" came out as django-celery-beat's "禁用", not the
# distributor status "已停用").
LOCALE_PATHS = [BASE_DIR / "fenxiao" / "locale",
                *(BASE_DIR / app / "locale" for app in INSTALLED_APPS if (BASE_DIR / app / "locale").is_dir())]
# money and dates in the console are written in the locale's format (fenxiao/formats: grouping
# of thousands for zh-hans as CLDR has it; Django's own formats otherwise)
FORMAT_MODULE_PATH = ["fenxiao.formats"]
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Uploaded materials (relations: poster images, documents). Not served under a public URL:
# distributors get them through the portal endpoints, which check tenant, grade and count downloads.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "media/"
# The address distributors reach this server at (no trailing slash). A tenant without its own
# invite_url_template gets invite links to the portal's registration page here:
# <FENXIAO_PUBLIC_URL>/portal/<tenant slug>/join/?code=<invite code> (relations.selectors.invite_url).
FENXIAO_PUBLIC_URL = env.str("FENXIAO_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")
# Hours a staff-issued one-time password reset link stays valid (relations.services.password_reset_issue).
PASSWORD_RESET_HOURS = env.int("PASSWORD_RESET_HOURS", default=24)
# the project's own static files: vendored libraries (Apache ECharts: fenxiao/static/vendor/echarts/README.md)
STATICFILES_DIRS = [BASE_DIR / "fenxiao" / "static"]

# Money: exact decimals in whole minor units of their currency (ISO 4217: 0.01 CNY, 1 JPY, 0.001
# KWD), stored with 4 places (the most any currency has: fenxiao.currencies.MAX_PLACES) and 16
# integer digits; rates with 4 places (domain rules, preamble).
MONEY_MAX_DIGITS = 20
RATE_DECIMAL_PLACES = 4
ORDER_MAX_LINES = 500
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["fenxiao.api.parsers.DecimalJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "fenxiao.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_standardized_errors.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "fenxiao.api.exception_handler.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": None,
    "NUM_PROXIES": NUM_PROXIES,
}

DRF_STANDARDIZED_ERRORS = {"ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True}

SPECTACULAR_SETTINGS = {
    "TITLE": "fenxiao API",
    "DESCRIPTION": (
        "Three-tier distribution (三级分销) backend: partner, distributor portal and staff endpoints.\n\n"
        "Request bodies are JSON in UTF-8 (RFC 8259): `Content-Type: application/json` with no charset or "
        "`charset=utf-8`. A declared charset other than UTF-8 answers 415 (`unsupported_media_type`); it is "
        "never re-decoded or guessed. Bytes that are not UTF-8 answer 400 (`parse_error`).\n\n"
        "Errors: `{\"type\", \"errors\": [{\"code\", \"detail\", \"attr\"}]}` with `type` `validation_error` "
        "for a refused body (400, `attr` names the field) and `client_error` for every other 4xx (`attr` null). "
        "Another tenant's object answers 404 like a missing one.\n\n"
        "External ids and references to them (parent, referrer, buyer, line ids): up to 64 characters, no "
        "\"/\", no space, no Unicode control, format or separator character (categories C* and Z*); spaces at "
        "the ends are dropped; otherwise 400 `invalid_external_id`.\n\n"
        "Ids: what a tenant creates (withdrawals, plans, backtests, contests, tier bonus schemes, targets) is "
        "identified by an opaque string, a type prefix and 16 random base32 characters (`wd_3kq7x2m5p4rtz6ab`, "
        "`plan_...`, `bt_...`, `contest_...`, `tier_...`, `target_...`), unique within the tenant; it reveals "
        "nothing of anyone's volume.\n\n"
        "Lists: `/distributors/`, `/orders/`, `/commissions/`, `/me/commissions/` and `/me/ledger/` are "
        "cursor-paginated (`next`, `previous`, `results`; `page_size` up to 200): a walk answers every row that "
        "existed when it began exactly once while rows are inserted or changed. A cursor that was changed or "
        "belongs to another list answers 400 `invalid_cursor`. `updated_after` (RFC 3339 with an offset) answers "
        "the rows created or changed since, for incremental sync. Other lists are page-numbered (`count`, "
        "`page`). Every GET answers 400 `unknown_parameter` for a query parameter it does not read.\n\n"
        "Idempotency: resources with an `external_id` are idempotent on it; every other POST takes an "
        "`Idempotency-Key` header (1 to 255 printable ASCII characters): the same key with the same request "
        "answers the first answer again (header `Idempotent-Replayed: true`) without a second effect, with "
        "another request 409 `idempotency_key_reused`; a 4xx answer is not kept. Keys are per caller, kept 30 days."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "DistributorStatusEnum": "distributors.models.Distributor.Status",
        "OrderStatusEnum": "orders.models.Order.Status",
        "CommissionStatusEnum": "commissions.models.CommissionRecord.Status",
        "RuleKindEnum": "commissions.models.RuleKind",
        "LedgerEntryKindEnum": "ledger.models.LedgerEntry.Kind",
        "RefundKindEnum": "orders.models.Refund.Kind",
        "WithdrawalStatusEnum": "ledger.models.Withdrawal.Status",
        "GradeChangeKindEnum": "distributors.models.GradeChange.Kind",
        "MeasureEnum": "incentives.models.Measure",
        "DistributorMeasureEnum": "incentives.models.DISTRIBUTOR_MEASURES",
        "ContestMeasureEnum": "incentives.services.CONTEST_MEASURES",
        "SchemeMeasureEnum": "incentives.services.SCHEME_MEASURES",
        "TargetScopeEnum": "incentives.models.Target.Scope",
        "MaterialKindEnum": "relations.models.Material.Kind",
        "AnnouncementAudienceEnum": "relations.models.Announcement.Audience",
        "FeedbackStatusEnum": "relations.models.FeedbackTicket.Status",
        "FeedbackAuthorEnum": "relations.models.FeedbackMessage.Author",
        "WebhookEndpointStatusEnum": "webhooks.models.WebhookEndpoint.Status",
        "DeliveryStatusEnum": "webhooks.models.Delivery.Status",
        "WebhookAttemptTriggerEnum": "webhooks.models.WebhookAttempt.Trigger",
        "ValidationErrorEnum": "drf_standardized_errors.openapi_serializers.ValidationErrorEnum.choices",
        "ClientErrorEnum": "drf_standardized_errors.openapi_serializers.ClientErrorEnum.choices",
        "ServerErrorEnum": "drf_standardized_errors.openapi_serializers.ServerErrorEnum.choices",
        "ErrorCode401Enum": "drf_standardized_errors.openapi_serializers.ErrorCode401Enum.choices",
        "ErrorCode403Enum": "drf_standardized_errors.openapi_serializers.ErrorCode403Enum.choices",
        "ErrorCode404Enum": "drf_standardized_errors.openapi_serializers.ErrorCode404Enum.choices",
        "ErrorCode405Enum": "drf_standardized_errors.openapi_serializers.ErrorCode405Enum.choices",
        "ErrorCode406Enum": "drf_standardized_errors.openapi_serializers.ErrorCode406Enum.choices",
        "ErrorCode415Enum": "drf_standardized_errors.openapi_serializers.ErrorCode415Enum.choices",
        "ErrorCode429Enum": "drf_standardized_errors.openapi_serializers.ErrorCode429Enum.choices",
        "ErrorCode500Enum": "drf_standardized_errors.openapi_serializers.ErrorCode500Enum.choices",
    },
    "POSTPROCESSING_HOOKS": ["drf_standardized_errors.openapi_hooks.postprocess_schema_enums"],
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "SIGNING_KEY": SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": False,
}

# Celery: no broker configured -> run tasks eagerly in-process (embedded default).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL.startswith("memory://")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing from a request must not make the partner wait through a broker outage: the work is
# in the database already (fenxiao.broker; the per-minute sweep picks it up). A refused connection
# fails at once; a broker that does not answer costs at most about a second per process, after
# which fenxiao.broker stops trying for a few seconds.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=1.0)
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A message taken by a worker that dies before acknowledging it (acks_late) goes back to the
    # queue this long after delivery (Redis transport; its default is an hour). Every task is
    # idempotent, so one that runs longer than this (settlement, a backtest) may be delivered a
    # second time while it runs; that second run finds the work claimed and returns.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=300),
    # how often a worker looks for such messages (seconds; throttle 1: every time)
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 1.0,
    "socket_timeout": 5.0,
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# Outbound webhooks (domain rules section 10; webhooks/). Deliveries to loopback, private,
# link-local and reserved addresses are refused unless WEBHOOKS_ALLOW_PRIVATE (the tests and
# `make demo` turn it on; never in production: it lets a partner's URL reach inside the network).
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=False)
WEBHOOKS_CONNECT_TIMEOUT = env.float("WEBHOOKS_CONNECT_TIMEOUT", default=3.0)   # seconds
WEBHOOKS_READ_TIMEOUT = env.float("WEBHOOKS_READ_TIMEOUT", default=5.0)         # seconds, per read
# a claimed delivery not recorded within this many seconds is claimed again (a lost message, a
# killed worker): longer than any attempt can take (the deliver task's time limit is 60 s)
WEBHOOKS_CLAIM_SECONDS = env.int("WEBHOOKS_CLAIM_SECONDS", default=90)
WEBHOOKS_RELAY_BATCH = 200          # deliveries claimed per round of a relay run
WEBHOOKS_DELIVER_CHUNK = 25         # deliveries of one endpoint sent by one deliver task, one after the other
WEBHOOKS_DELIVER_SECONDS = 30       # a deliver task starts no POST after this long; the rest go back to the relay
# while a tenant's accrual is behind, its deliveries wait up to this long (seconds; 0: never)
WEBHOOKS_YIELD_SECONDS = env.float("WEBHOOKS_YIELD_SECONDS", default=10.0)
# The relay and its deliveries have a queue of their own, served by their own workers
# (docker-compose.yml's `webhooks` service; `make worker` serves both): a backlog of deliveries
# must never wait in front of the accrual of new orders (bench/run.py --webhooks).
WEBHOOKS_QUEUE = "webhooks"
CELERY_TASK_ROUTES = {"webhooks.tasks.*": {"queue": WEBHOOKS_QUEUE}}
WEBHOOKS_MAX_ENDPOINTS = 20         # per tenant
WEBHOOKS_ROTATION_OVERLAP = timedelta(hours=24)   # the old secret still signs this long after a rotation
CELERY_TIMEZONE = "UTC"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
}
