"""Settings shared by every profile. Everything a deployment changes comes from the environment."""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import plotly
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
# var/ holds the database, the secret key, demo logins and backups: for this account only.
VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)

SECRET_KEY = env_str("SECRET_KEY")
DEBUG = env_bool("DEBUG", False)
# The names and addresses the site answers to. On a LAN, add the machine's address or name
# (`ALLOWED_HOSTS=127.0.0.1,localhost,192.168.1.20`); anything else gets 400 Bad Request.
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Sockets accept pages of the origin they are served on (realtime/origin.py); behind a proxy that
# changes the scheme or port, list the public origin here, e.g. https://shelters.example.jp.
WEBSOCKET_ALLOWED_ORIGINS = env_list("WEBSOCKET_ALLOWED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "axes",
    "csp",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "common",
    "realtime",
    "access",
    "consent",
    "shelters",
    "notifications",
    "supply",
    "surveys",
    "dashboard",
    "cityos",
    "residents",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.locale.JapaneseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "common.middleware.DatabaseBusyMiddleware",
    "csp.middleware.CSPMiddleware",
    # After CSP (its error pages get the policy too), and after the language and the user, which its
    # error page needs (common/middleware.py).
    "common.middleware.HostileInputMiddleware",
    # Last, as django-axes asks: it turns a lockout found during the login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
# Errors in the one shape (the others are handler400/403/404/500 in config/urls.py).
CSRF_FAILURE_VIEW = "common.error_pages.csrf_failure"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "shelters.context_processors.navigation",
            ],
        },
    },
]

# Database: DATABASE_URL when set, otherwise SQLite under var/. SQLite runs in WAL mode with a
# busy timeout and immediate transactions, so daphne and the Celery worker wait for each other's
# write locks instead of failing with "database is locked".
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    # CONN_MAX_AGE + CONN_HEALTH_CHECKS are for the WSGI workers (the launcher sets them there, with
    # DB_POOL=0): one thread per request slot, so one persistent connection each, checked before reuse.
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("CONN_MAX_AGE", 0),
            conn_health_checks=env_bool("CONN_HEALTH_CHECKS", False),
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DB_POOL", True):
        # A bounded pool per process, for daphne. Under ASGI every request runs in a thread of its
        # own, so per-thread persistent connections (CONN_MAX_AGE) pile up; a pool reuses connections
        # and makes an overload queue instead of exhausting PostgreSQL (see docs/performance.md).
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": env_int("DB_POOL_MAX_SIZE", 8),
            # Seconds a request waits for a free connection before it is answered 503 (busy).
            "timeout": env_int("DB_POOL_TIMEOUT", 10),
        }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Bounded waits (docs/operations.md): a request waiting on a row lock, or a statement
        # running away, fails with a clear 503 instead of holding its connection until the client
        # and then the server give up. 0 turns a limit off.
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = " ".join(
            filter(
                None,
                [
                    options.get("options", ""),
                    f"-c lock_timeout={env_int('DB_LOCK_TIMEOUT_MS', 5000)}",
                    f"-c statement_timeout={env_int('DB_STATEMENT_TIMEOUT_MS', 30000)}",
                ],
            )
        )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "CONN_MAX_AGE": env_int("CONN_MAX_AGE", 0),
            "CONN_HEALTH_CHECKS": env_bool("CONN_HEALTH_CHECKS", False),
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "shelters.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Password guessing (docs/security.md). django-axes counts failed logins on every path that calls
# authenticate() (/login/, /admin/login/) in the database, which every process shares and which
# keeps counting through a Redis restart. A username is locked only together with the address
# that failed: an attacker trying every manager's name locks out himself, not the managers. One
# address failing for many usernames (guessing one password across accounts) is locked at a
# higher limit. A lockout lasts LOGIN_COOLOFF_MINUTES after the last failure; HQ can lift it
# earlier at /security/lockouts/. Behind the launcher there is no proxy: the address is
# REMOTE_ADDR (django-ipware is not installed; set AXES_CLIENT_IP_CALLABLE behind a proxy).
AUTHENTICATION_BACKENDS = [
    "common.lockouts.LockoutBackend",
    # Sign-in with the City OS (OpenID Connect): finds the user by city_os_id, or makes a resident.
    "cityos.auth.CityOSBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "common.lockouts.LockoutHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]  # the order LockoutHandler reads
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_LIMIT_PER_ADDRESS = env_int("LOGIN_FAILURE_LIMIT_PER_ADDRESS", 30)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "common.lockouts.lockout_response"
# Failures are what we keep; a row per successful login would only grow.
AXES_DISABLE_ACCESS_LOG = True
# HQ lifts lockouts on its own page; the admin keeps no second copy of it.
AXES_ENABLE_ADMIN = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Japanese first, with a complete English translation.
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# plotly.js comes from the plotly package itself, so the browser's copy always matches the Python
# figures' version and nothing is fetched from a CDN.
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor/plotly", Path(plotly.__file__).parent / "package_data")]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Redis: the private one that `make run` starts when REDIS_URL is not set or does not answer
# (see config/launcher.py), which then passes its address down as REDIS_URL.
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")

# Keys and channels in Redis start with this, so several deployments (or test runs) can share one.
REDIS_PREFIX = env_str("REDIS_PREFIX", "shelter-ops")

# Seconds any Redis command may take (connect, send, answer) before it counts as an outage: a
# frozen Redis must cost a request at most this, and then nothing while the outage lasts
# (realtime/outage.py).
REDIS_TIMEOUT_SECONDS = float(env_int("REDIS_TIMEOUT_MS", 1000)) / 1000
REDIS_TIMEOUTS = {"socket_timeout": REDIS_TIMEOUT_SECONDS, "socket_connect_timeout": REDIS_TIMEOUT_SECONDS}

# Group fan-out through Redis pub/sub: one PUBLISH per event, whatever the number of dashboards.
# A command on a connection that a Redis restart closed is tried once more on a new connection:
# else the first event each process publishes after the restart is lost (the pages would notice,
# by the heartbeat, and reload their snapshot; this spares them).
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": REDIS_URL,
                    "retry": Retry(NoBackoff(), 1),
                    "retry_on_error": [RedisConnectionError],
                    **REDIS_TIMEOUTS,
                }
            ],
            "prefix": REDIS_PREFIX,
        },
    }
}

# The cache (the public survey form's rate limits) is shared by every process through Redis when
# REDIS_URL is set; a process-local cache otherwise.
if env_str("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "config.cache.OutageAwareRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_PREFIX,
            "OPTIONS": REDIS_TIMEOUTS,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The survey residents answer without logging in: answers accepted per client address and per
# shelter poster within a window, beyond which the form answers 429.
SURVEY_RATE_LIMIT_PER_IP = env_int("SURVEY_RATE_LIMIT_PER_IP", 20)
SURVEY_RATE_LIMIT_PER_SHELTER = env_int("SURVEY_RATE_LIMIT_PER_SHELTER", 600)
SURVEY_RATE_LIMIT_WINDOW_SECONDS = env_int("SURVEY_RATE_LIMIT_WINDOW_SECONDS", 600)

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 5 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 4 * 60
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# With late acknowledgement, a message a dead worker held comes back after the visibility timeout;
# Celery's Redis documentation asks for it to exceed the longest countdown/ETA we use (seconds here).
# kombu looks for such messages every unacked_restore_interval × unacked_restore_throttle seconds
# (10 × 10 by default); one cheap Redis query every 10 s brings them back within seconds of expiry.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 60 * 60),
    "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_SECONDS", 10),
    "unacked_restore_throttle": 1,
    # Publishing from a request must not hang on a frozen Redis. Longer than the command
    # timeout: the worker's BRPOP waits 1 s for a message on the same kind of connection.
    "socket_timeout": max(REDIS_TIMEOUT_SECONDS, 5.0),
    "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
}
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT_SECONDS
# A publish that fails is retried once, briefly; the durable row and beat's sweep do the rest.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None  # keep reconnecting through a Redis restart

# Supplies (supply): how the planner turns distances into times, and how often it runs.
SUPPLY_ROAD_SPEED_KMH = env_int("SUPPLY_ROAD_SPEED_KMH", 30)
# Roads are longer than the straight line between two points, in percent of it.
SUPPLY_ROAD_DETOUR_PERCENT = env_int("SUPPLY_ROAD_DETOUR_PERCENT", 130)
SUPPLY_LOADING_MINUTES = env_int("SUPPLY_LOADING_MINUTES", 30)
# A burst of requests is planned once, this long after the first of them.
SUPPLY_PLAN_DEBOUNCE_SECONDS = env_int("SUPPLY_PLAN_DEBOUNCE_SECONDS", 5)
# The sweep plans whatever no enqueued job did (Redis was down, a worker died).
SUPPLY_PLAN_SWEEP_SECONDS = env_int("SUPPLY_PLAN_SWEEP_SECONDS", 60)
SUPPLY_OVERDUE_CHECK_SECONDS = env_int("SUPPLY_OVERDUE_CHECK_SECONDS", 300)
# Requests planned per transaction: a crash loses at most one batch's work, never its correctness.
SUPPLY_PLAN_BATCH = env_int("SUPPLY_PLAN_BATCH", 2000)

# Retention (shelters/services/retention.py, docs/consent.md): a person's data is anonymised this many
# days after their last stay ended and every disaster they stayed through was closed, unless HQ put it
# under a legal hold. 365 days covers the fiscal-year settlement of 災害救助法 expenses and a year of
# health follow-up, and leaves residents time to download their data; a deployment sets its own
# retention schedule (文書管理規程). The beat job runs every RETENTION_SWEEP_SECONDS and anonymises at
# most RETENTION_MAX_PER_RUN people, RETENTION_BATCH_SIZE per transaction.
RETENTION_DAYS = env_int("RETENTION_DAYS", 365)
RETENTION_SWEEP_SECONDS = env_int("RETENTION_SWEEP_SECONDS", 3600)
RETENTION_BATCH_SIZE = env_int("RETENTION_BATCH_SIZE", 100)
RETENTION_MAX_PER_RUN = env_int("RETENTION_MAX_PER_RUN", 2000)
if RETENTION_DAYS < 1 or RETENTION_BATCH_SIZE < 1 or RETENTION_MAX_PER_RUN < 1 or RETENTION_SWEEP_SECONDS < 1:
    raise ImproperlyConfigured("RETENTION_DAYS, _SWEEP_SECONDS, _BATCH_SIZE and _MAX_PER_RUN must be at least 1.")

CELERY_BEAT_SCHEDULE: dict = {
    "supply-plan-sweep": {"task": "supply.tasks.supply_plan", "schedule": float(SUPPLY_PLAN_SWEEP_SECONDS)},
    "supply-overdue": {
        "task": "supply.tasks.supply_check_overdue",
        "schedule": float(SUPPLY_OVERDUE_CHECK_SECONDS),
    },
    "survey-imports-resume": {"task": "surveys.import_resume", "schedule": 60.0},
    "retention-anonymise": {"task": "shelters.tasks.retention_anonymise", "schedule": float(RETENTION_SWEEP_SECONDS)},
    # Releases stop by themselves when they expire (checked on every read); this records the end.
    "consent-releases-end": {"task": "consent.releases_end", "schedule": 60.0},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "common.throttles.ThrottledTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "common.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "common.errors.api_exception_handler",
    # JSON refused with a 400 naming the field when it holds NUL or nests too deep.
    "DEFAULT_PARSER_CLASSES": [
        "common.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Throttles answer 429 in the one error shape; they let requests through when the cache
    # (Redis) cannot be reached, rather than refuse service during an outage.
    "DEFAULT_THROTTLE_CLASSES": ["common.throttles.AnonRateThrottle", "common.throttles.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        # An empty value turns a throttle off (the benchmarks measure the server, not the throttle).
        "anon": env_str("API_THROTTLE_ANON", "60/min") or None,
        "user": env_str("API_THROTTLE_USER", "600/min") or None,
        # Wrong API tokens per client address (common.throttles.ThrottledTokenAuthentication).
        "failed_token": env_str("API_THROTTLE_FAILED_TOKEN", "20/hour") or None,
    },
    # The client address is REMOTE_ADDR: an X-Forwarded-For header is believed only from this many
    # proxies in front (none behind the launcher), or anyone could name a fresh address each time.
    "NUM_PROXIES": env_int("API_NUM_PROXIES", 0),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Aizuwakamatsu shelter operations API",
    "DESCRIPTION": "Shelters, evacuees, households, stays and status changes.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation documents the errors it can answer, in the one shape (common/openapi.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "common.openapi.document_errors",
    ],
    # A check-out's destinations, taken by /api/stays/<id>/check-out/ and /api/batch/: one name.
    "ENUM_NAME_OVERRIDES": {"CheckOutDestinationEnum": "shelters.batch_serializers.CHECK_OUT_DESTINATIONS"},
}

# Content-Security-Policy (django-csp): scripts only from this site, no inline script or handler
# (pages pass data with json_script, a JSON block the browser never runs), nothing from
# elsewhere (no CDN: shelters lose internet), no framing. Styles from this site; plotly.js also
# writes <style> rules and style attributes as it draws, hence 'unsafe-inline' for styles only.
# The policy is reported only (CSP_REPORT_ONLY=1) when a deployment needs to try a change first.
_CSP_DIRECTIVES = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
if env_bool("CSP_REPORT_ONLY", False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": _CSP_DIRECTIVES}
else:
    CONTENT_SECURITY_POLICY = {"DIRECTIVES": _CSP_DIRECTIVES}

# Logs carry ids, never names, phone numbers or addresses.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # axes logs every failed login at INFO twice; its warnings (usernames and addresses masked)
        # are enough, and the lockouts themselves are in the audit trail.
        "axes": {"level": "WARNING"},
    },
}

# The demo accounts' password (`load_demo`) when set, for all of them: tests, a training session.
# Unset, each account gets a password generated for this installation (shelters/demo.py).
DEMO_PASSWORD = env_str("DEMO_PASSWORD")
# `make run` loads the sample data into the embedded SQLite database only; DEMO=1 also into the
# database DATABASE_URL names (`load_demo --only-embedded`).
DEMO = env_bool("DEMO", False)

# Check every event sent against its schema in the catalogue (realtime/catalogue.py). On in tests
# and development (dev.py); off in production, where the tests have done it.
REALTIME_CHECK_EVENTS = env_bool("REALTIME_CHECK_EVENTS", False)

# Each server process sends every open dashboard socket a heartbeat this often (through Redis, so it
# proves the whole path); a page that hears nothing for about twice as long says it is stale.
REALTIME_HEARTBEAT_SECONDS = env_int("REALTIME_HEARTBEAT_SECONDS", 3)

# Consent (consent/rules.py): the legal rules that stand in for a resident's consent. Standing rules
# apply by themselves where the resident has not decided (running the shelter they checked in to);
# an empty list makes every use opt-in. Release rules are those HQ may declare a release under.
CONSENT_STANDING_RULES = env_list("CONSENT_STANDING_RULES", ["shelter_operation"])
CONSENT_RELEASE_RULES = env_list("CONSENT_RELEASE_RULES", ["life_protection", "roster_disaster_release"])

# Aizuwakamatsu's City OS (docs/city-os.md): sign-in with OpenID Connect, and the opt-in, attribute
# and location APIs cityos/client.py calls. With CITYOS_ISSUER unset, everything points at the City
# OS sandbox that `make run` starts beside the site (cityos/sandbox/), with the client id, secret
# and API token it shares with the site under var/cityos-sandbox/. Setting CITYOS_ISSUER means a
# real City OS: then every CITYOS_* below comes from the environment, and no sandbox is started.
CITYOS_ISSUER = env_str("CITYOS_ISSUER").rstrip("/")
CITYOS_SANDBOX = not CITYOS_ISSUER
if CITYOS_SANDBOX:
    from cityos.sandbox import instance as _sandbox

    _sandbox_dir = _sandbox.sandbox_dir(VAR_DIR)
    _sandbox_url = f"http://127.0.0.1:{_sandbox.sandbox_port(env_int('PORT', 8000))}"
    CITYOS_ISSUER = f"{_sandbox_url}/o"
    CITYOS_CLIENT_ID = env_str("CITYOS_CLIENT_ID") or _sandbox.client_id(_sandbox_dir)
    CITYOS_CLIENT_SECRET = env_str("CITYOS_CLIENT_SECRET") or _sandbox.client_secret(_sandbox_dir)
    CITYOS_API_TOKEN = env_str("CITYOS_API_TOKEN") or _sandbox.api_token(_sandbox_dir)
    CITYOS_ATTRIBUTES_URL = env_str("CITYOS_ATTRIBUTES_URL", f"{_sandbox_url}/api/attributes")
    CITYOS_OPTIN_URL = env_str("CITYOS_OPTIN_URL", f"{_sandbox_url}/api/optin")
    CITYOS_LOCATION_URL = env_str("CITYOS_LOCATION_URL", f"{_sandbox_url}/api/location")
else:
    CITYOS_CLIENT_ID = env_str("CITYOS_CLIENT_ID")
    CITYOS_CLIENT_SECRET = env_str("CITYOS_CLIENT_SECRET")
    CITYOS_API_TOKEN = env_str("CITYOS_API_TOKEN")
    CITYOS_ATTRIBUTES_URL = env_str("CITYOS_ATTRIBUTES_URL")
    CITYOS_OPTIN_URL = env_str("CITYOS_OPTIN_URL")
    CITYOS_LOCATION_URL = env_str("CITYOS_LOCATION_URL")
# The logout form's POST is redirected to the City OS's end_session_endpoint (cityos.views.logout),
# which the browser follows only when form-action names its origin.
_CSP_DIRECTIVES["form-action"] = ["'self'", "{0.scheme}://{0.netloc}".format(urlsplit(CITYOS_ISSUER))]
# Seconds any one call to the City OS may take (connect, and each wait for an answer).
CITYOS_TIMEOUT_SECONDS = env_int("CITYOS_TIMEOUT_SECONDS", 3)

# mozilla-django-oidc, the relying party (cityos/auth.py, cityos/views.py). The client id and secret
# are CITYOS_CLIENT_*; the endpoints come from the issuer's discovery document (cityos.client.discovery),
# fetched when a sign-in first needs it.
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid"
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_TIMEOUT = CITYOS_TIMEOUT_SECONDS
OIDC_AUTHENTICATION_CALLBACK_URL = "cityos:callback"
# Kept for the logout, which ends the City OS's session too (its end_session_endpoint).
OIDC_STORE_ID_TOKEN = True
# Who holds residents' data, as every consent record (receipt) a resident downloads names it
# (residents/receipts.py). The defaults are the city hall's public details; a deployment sets its
# privacy office's own.
CONSENT_CONTROLLER_NAME = env_str("CONSENT_CONTROLLER_NAME", "会津若松市")
CONSENT_CONTROLLER_CONTACT = env_str("CONSENT_CONTROLLER_CONTACT", "会津若松市役所 0242-39-1111")
CONSENT_CONTROLLER_ADDRESS = env_str("CONSENT_CONTROLLER_ADDRESS", "〒965-8601 福島県会津若松市東栄町3番46号")
CONSENT_PRIVACY_POLICY_URL = env_str("CONSENT_PRIVACY_POLICY_URL", "https://www.city.aizuwakamatsu.fukushima.jp/")

# The City OS at the desk, on the HQ dashboard and in the consent ledger (docs/city-os.md, "The desk,
# the opt-in sync, the location counts and the shelter API"). Opt-in sync: beat applies the City OS
# opt-in of this many people staying in shelters per run, this often (seconds).
CITYOS_SYNC_BATCH = env_int("CITYOS_SYNC_BATCH", 100)
CITYOS_SYNC_SECONDS = env_int("CITYOS_SYNC_SECONDS", 300)
# Residents outside the shelters per area (the HQ dashboard, during a disaster): beat fetches them
# this often and the cache keeps them this long; a City OS that did not answer is asked again after
# CITYOS_LOCATION_RETRY_SECONDS; a page waits at most CITYOS_LOCATION_WAIT_SECONDS for them.
CITYOS_LOCATION_REFRESH_SECONDS = env_int("CITYOS_LOCATION_REFRESH_SECONDS", 60)
CITYOS_LOCATION_CACHE_SECONDS = env_int("CITYOS_LOCATION_CACHE_SECONDS", 150)
CITYOS_LOCATION_RETRY_SECONDS = env_int("CITYOS_LOCATION_RETRY_SECONDS", 30)
CITYOS_LOCATION_WAIT_SECONDS = env_int("CITYOS_LOCATION_WAIT_SECONDS", 1)
# The token the City OS presents to read our shelters' live status (GET /api/cityos/shelters/,
# "Authorization: Bearer <token>"). Unset: that endpoint is off (404).
CITYOS_SHELTER_API_TOKEN = env_str("CITYOS_SHELTER_API_TOKEN")
CELERY_BEAT_SCHEDULE["cityos-consents-sync"] = {
    "task": "cityos.consents_sync_staying",
    "schedule": float(CITYOS_SYNC_SECONDS),
}
CELERY_BEAT_SCHEDULE["cityos-location-counts"] = {
    "task": "cityos.location_counts_refresh",
    "schedule": float(CITYOS_LOCATION_REFRESH_SECONDS),
}
