"""Settings of the City OS sandbox, a Django project apart from the site (its own database, secret
and cookies). `python -m cityos.sandbox` sets the port and the redirect URIs in the environment."""

import os
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from cityos.sandbox import instance
from common.instance import instance_secret

BASE_DIR = instance.BASE_DIR
VAR_DIR = Path(os.environ.get("VAR_DIR") or BASE_DIR / "var")
SANDBOX_DIR = instance.sandbox_dir(VAR_DIR)
SANDBOX_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
PORT = int(os.environ.get("CITYOS_SANDBOX_PORT") or 8001)

SECRET_KEY = instance_secret(SANDBOX_DIR / "secret_key")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", *filter(None, os.environ.get("ALLOWED_HOSTS", "").split(","))]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
    "cityos.sandbox.apps.SandboxConfig",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "cityos.sandbox.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": SANDBOX_DIR / "db.sqlite3",
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The site and the sandbox both run on 127.0.0.1, and browsers keep cookies per host, not per
# port: with Django's default names each would overwrite the other's session.
SESSION_COOKIE_NAME = "cityos_sandbox_session"
CSRF_COOKIE_NAME = "cityos_sandbox_csrftoken"
LANGUAGE_COOKIE_NAME = "cityos_sandbox_language"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "resident"

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

ISSUER = os.environ.get("CITYOS_SANDBOX_ISSUER") or f"http://127.0.0.1:{PORT}/o"
# The RS256 key the sandbox signs ID tokens and QR payloads with, generated on the first start.
OIDC_KEY_FILE = SANDBOX_DIR / "oidc-key.pem"


def _new_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_ISS_ENDPOINT": ISSUER,
    "OIDC_RSA_PRIVATE_KEY": instance_secret(OIDC_KEY_FILE, generate=_new_key),
    "PKCE_REQUIRED": True,
    "SCOPES": {"openid": "OpenID Connect"},
    "DEFAULT_SCOPES": ["openid"],
    "OAUTH2_VALIDATOR_CLASS": "cityos.sandbox.validator.SandboxValidator",
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 600,
}
# QR payloads a resident shows at a shelter's desk stay valid this long.
QR_LIFETIME_SECONDS = 24 * 60 * 60

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
