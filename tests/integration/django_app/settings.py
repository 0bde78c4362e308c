"""Django settings for the integration tests: SQLite always, PostgreSQL and MariaDB when set.

The database aliases are the engine names: ``default`` (a SQLite file, so threads get
connections of their own), ``postgresql`` and ``mysql`` when STATUSGUARD_TEST_POSTGRES_URL /
STATUSGUARD_TEST_MYSQL_URL are set (the tests that need one skip, naming the variable,
otherwise). Test databases get names of their own per process.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.integration._reliab_db import ENGINES

SECRET_KEY = "statusguard-tests-only"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "tests.integration.django_app",
]
# the admin, for the tests of refusals shown as messages (test_django_admin.py)
ROOT_URLCONF = "tests.integration.django_app.urls"
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASE_ROUTERS = ["tests.integration.django_app.routers.ContribOnDefault"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SCRATCH = Path(tempfile.mkdtemp(prefix="sg_django_"))  # removed by conftest.py at the end
_TEST_NAME = f"test_sg_django_{os.getpid()}"

BACKENDS = {"postgresql": "django.db.backends.postgresql", "mysql": "django.db.backends.mysql"}


def server(engine: str, url: str) -> dict[str, Any]:
    """A SQLAlchemy URL (``postgresql+psycopg://user:pw@host:port/db``) as a DATABASES entry."""
    u = urlsplit(url)
    entry: dict[str, Any] = {
        "ENGINE": BACKENDS[engine],
        "NAME": u.path.lstrip("/") or "test",
        "USER": unquote(u.username or ""),
        "PASSWORD": unquote(u.password or ""),
        "HOST": u.hostname or "",
        "PORT": str(u.port or ""),
        "TEST": {"NAME": _TEST_NAME},
    }
    if engine == "mysql":
        entry["OPTIONS"] = {"charset": "utf8mb4"}
        entry["TEST"]["CHARSET"] = "utf8mb4"
        _mysqldb()
    return entry


def _mysqldb() -> None:
    """Django's MySQL backend on PyMySQL (mysqlclient needs a C build; PyMySQL is installed)."""
    try:
        import MySQLdb  # noqa: F401
    except ImportError:
        import pymysql

        pymysql.version_info = (2, 2, 1, "final", 0)  # the mysqlclient version Django wants
        pymysql.install_as_MySQLdb()


DATABASES: dict[str, dict[str, Any]] = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(SCRATCH / "sg_django.sqlite3"),
        "TEST": {"NAME": str(SCRATCH / "test_sg_django.sqlite3")},
    }
}
for _engine, _var in ENGINES.items():
    _url = os.environ.get(_var)
    if _url:
        DATABASES[_engine] = server(_engine, _url)
