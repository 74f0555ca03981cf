"""Paydesk settings: every value comes from the environment, with a documented default.

The defaults are the embedded setup (SQLite, in-memory channel layer, Celery tasks run in-process).
Setting REDIS_URL switches the channel layer, the cache and Celery to Redis; DATABASE_URL picks the
database. The README lists every variable.
"""

from pathlib import Path

import certifi
import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-paydesk-development-key-change-me")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

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
    "django_celery_beat",
    "channels",
    "django_htmx",
    "corsheaders",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "accounts",
    "payments",
    "tickets",
    "chat",
    "notifications",
    "dashboards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before CommonMiddleware: the chat widget on a merchant's page uploads attachments here.
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After authentication and messages: they read the user and may leave a message.
    "accounts.middleware.user_preferences",
    "accounts.middleware.two_factor_required",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
ASGI_APPLICATION = "helpdesk.asgi.application"

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
                "django.template.context_processors.i18n",
                "notifications.context_processors.notifications",
            ],
        },
    },
]

# Database ------------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool(
    "DB_POOL", default=True
):
    # Under ASGI each request may run in a new thread with a new connection; a pool makes
    # that cheap. Django requires persistent connections off when pooling.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=10),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web process and an in-process worker share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: channel layer, cache, Celery broker --------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Redis pub/sub, not channels_redis.core: the core layer's per-process capacity of
            # 100 messages is shared by every socket of the process and drops messages past it
            # (docs/benchmarks.md). A channel layer delivers at most once either way; chat
            # messages are stored first and clients resume by sequence number.
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://localhost/")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
# Keep worker database connections across tasks (Celery closes them after each task otherwise);
# helpdesk/celery.py still drops broken or too-old ones.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# A webhook must be answered even when the broker is down: publish once, fail fast, and let the
# periodic sweep pick the stored event up later.
CELERY_TASK_PUBLISH_RETRY = False
# A task a worker took and never acknowledged (it was killed) goes to another worker after this.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT_S", default=3600),
    "socket_connect_timeout": 2,
}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat's schedules live in the database, where admins change them (admin › Periodic tasks);
# notifications/schedules.py creates the missing ones after `migrate` with these intervals.
WEBHOOK_SWEEP_INTERVAL_S = env.int("WEBHOOK_SWEEP_INTERVAL_S", default=60)
NOTIFICATION_SWEEP_INTERVAL_S = env.int("NOTIFICATION_SWEEP_INTERVAL_S", default=60)
SLA_SCAN_INTERVAL_S = env.int("SLA_SCAN_INTERVAL_S", default=30)
DISPUTE_SCAN_INTERVAL_S = env.int("DISPUTE_SCAN_INTERVAL_S", default=300)
DIGEST_HOUR = env.int("DIGEST_HOUR", default=7)

# Auth, i18n, static --------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["accounts.backends.AuthenticationBackend"]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "tickets:queue"
LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: agents sign in with their username or email and a password. Admins create the
# accounts, so there is no sign-up and no email verification: a new user can sign in at once.
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"login": "accounts.forms.LoginForm"}
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
# No "remember me": the session cookie ends with the browser, and the session itself expires
# SESSION_COOKIE_AGE after it was last saved (normally at sign-in), whichever comes first.
ACCOUNT_SESSION_REMEMBER = False
# A password reset asked for an address Paydesk does not know sends nothing.
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Paydesk] "
# Two-factor authentication: an authenticator app (TOTP), with recovery codes as the fallback.
MFA_ADAPTER = "accounts.adapter.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="Paydesk")
# Also accept the code of the previous and next 30 s, for clocks that drift and slow typists.
MFA_TOTP_TOLERANCE = 1

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("el", "Ελληνικά"), ("fa", "فارسی")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# HTTPS: on in production (HTTPS=true), off for the embedded demo on http://localhost.
HTTPS = env.bool("HTTPS", default=False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=HTTPS)
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_COOKIE_HTTPONLY = True
# Links in account emails (password reset) use https when the site does.
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if HTTPS else "http"

# Email ---------------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / "sent-mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Paydesk <support@localhost>")

# Notifications -------------------------------------------------------------------------------
# Where Paydesk is reached from outside: links in emails start with it.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
SITE_NAME = env.str("SITE_NAME", default="Paydesk")
# Where a customer whose payment failed can try again (the merchant's checkout); blank: no link.
CUSTOMER_RETURN_URL = env.str("CUSTOMER_RETURN_URL", default="")
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=6)
NOTIFICATION_RETRY_BASE_S = env.int("NOTIFICATION_RETRY_BASE_S", default=30)
# A worker sending a notification holds it this long; after that it counts as dead and another
# may send.
NOTIFICATION_SEND_LEASE_S = env.int("NOTIFICATION_SEND_LEASE_S", default=120)
NOTIFICATION_SWEEP_AFTER_S = env.int("NOTIFICATION_SWEEP_AFTER_S", default=120)
# A breach older than this when first seen is not announced (a database restored from backup
# must not page everyone for every old ticket).
SLA_BREACH_NOTICE_HOURS = env.int("SLA_BREACH_NOTICE_HOURS", default=24)
CSAT_LINK_MAX_AGE_DAYS = env.int("CSAT_LINK_MAX_AGE_DAYS", default=30)

# REST API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["tickets.permissions.IsAgent"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Paydesk API",
    "DESCRIPTION": "Payment-support tickets, payments and provider webhook events.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["tickets.permissions.IsAgent"],
    # Swagger UI is served from our own static files: the app works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status" or an "outcome" with different choices: name each enum.
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "tickets.models.Status",
        "PaymentStatusEnum": "payments.models.PaymentStatus",
        "RefundStatusEnum": "payments.models.RefundStatus",
        "DisputeOutcomeEnum": "payments.models.DisputeOutcome",
        "EventOutcomeEnum": "payments.models.EventOutcome",
    },
}

# Payment providers ---------------------------------------------------------------------------
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(2_621_440, WEBHOOK_MAX_BODY_BYTES + 1)

STRIPE_API_KEY = env.str("STRIPE_API_KEY", default="")
STRIPE_WEBHOOK_SECRETS = env.list("STRIPE_WEBHOOK_SECRETS", default=[])
STRIPE_WEBHOOK_TOLERANCE_S = env.int("STRIPE_WEBHOOK_TOLERANCE_S", default=300)

PAYPAL_CLIENT_ID = env.str("PAYPAL_CLIENT_ID", default="")
PAYPAL_CLIENT_SECRET = env.str("PAYPAL_CLIENT_SECRET", default="")
PAYPAL_ENVIRONMENT = env.str("PAYPAL_ENVIRONMENT", default="sandbox")
PAYPAL_WEBHOOK_ID = env.str("PAYPAL_WEBHOOK_ID", default="")
PAYPAL_CERT_HOSTS = env.list(
    "PAYPAL_CERT_HOSTS", default=["api.paypal.com", "api.sandbox.paypal.com"]
)
PAYPAL_CA_BUNDLE = env.str("PAYPAL_CA_BUNDLE", default=certifi.where())
PAYPAL_WEBHOOK_TOLERANCE_S = env.int("PAYPAL_WEBHOOK_TOLERANCE_S", default=300)

# Tickets -------------------------------------------------------------------------------------
DEFAULT_TEAM_NAME = env.str("DEFAULT_TEAM_NAME", default="Payment support")
DISPUTE_DUE_MARGIN_HOURS = env.int("DISPUTE_DUE_MARGIN_HOURS", default=48)
# The queue's "Breaching SLA soon" holds open tickets due within this many minutes (or overdue).
SLA_WARNING_MINUTES = env.int("SLA_WARNING_MINUTES", default=60)
SOLVED_RECENTLY_DAYS = env.int("SOLVED_RECENTLY_DAYS", default=7)
WEBHOOK_RETRY_FAILED_AFTER_S = env.int("WEBHOOK_RETRY_FAILED_AFTER_S", default=300)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=10)

# Live chat -----------------------------------------------------------------------------------
# The secret the merchant's backend signs customer identities with (chat/identity.py).
CHAT_IDENTITY_SECRET = env.str("CHAT_IDENTITY_SECRET", default="")
CHAT_TOKEN_MAX_AGE_S = env.int("CHAT_TOKEN_MAX_AGE_S", default=24 * 3600)
# The merchant pages that may embed the widget: their origins (https://shop.example.com) may
# open the chat socket and upload attachments. Paydesk's own pages (ALLOWED_HOSTS) always may.
CHAT_ALLOWED_ORIGINS = env.list("CHAT_ALLOWED_ORIGINS", default=[])
CORS_ALLOWED_ORIGINS = CHAT_ALLOWED_ORIGINS
CORS_URLS_REGEX = r"^/chat/api/.*$"
CHAT_MAX_MESSAGE_CHARS = env.int("CHAT_MAX_MESSAGE_CHARS", default=4000)
CHAT_MESSAGES_PER_MINUTE = env.int("CHAT_MESSAGES_PER_MINUTE", default=30)
CHAT_MAX_ATTACHMENTS = env.int("CHAT_MAX_ATTACHMENTS", default=20)
CHAT_MAX_ATTACHMENT_BYTES = env.int("CHAT_MAX_ATTACHMENT_BYTES", default=10 * 1024 * 1024)
# What the widget offers a customer whose payment failed, in this order.
CHAT_PAYMENT_ALTERNATIVES = env.list(
    "CHAT_PAYMENT_ALTERNATIVES", default=["card", "paypal", "apple_pay", "google_pay"]
)
# The demo merchant checkout page (/demo/checkout/); `make demo` turns it on.
DEMO_CHECKOUT = env.bool("DEMO_CHECKOUT", default=False)
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Logging -------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}
