"""Typed settings, read from the environment and then the command line."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path


def _package_dir() -> Path:
    """The installed package's folder: its templates, static files, plans and catalogues."""
    here = resources.files("facilitation")
    # Jinja's loader and StaticFiles read real files: not a package imported from a zip.
    if not isinstance(here, Path):
        raise RuntimeError("Éclair must be installed as files (pip install), not zipped")
    return here


PACKAGE = _package_dir()
# The folder holding the package: the checkout when run from one, site-packages otherwise.
ROOT = PACKAGE.parent
# A checkout keeps its database beside the code, as always; an installed Éclair keeps it
# under the current directory (site-packages is no place for data).
CHECKOUT = ROOT if (ROOT / "pyproject.toml").is_file() else None


def default_db_path() -> Path:
    """`data/eclair.db` in the checkout, else under the current directory."""
    return (CHECKOUT or Path.cwd()) / "data" / "eclair.db"


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to start; see the settings table in the README."""

    host: str = "127.0.0.1"
    port: int = 8000
    db_path: Path = field(default_factory=default_db_path)
    # PostgreSQL instead of the SQLite file (postgresql://user@host/db), for several
    # processes or hosts; empty: the embedded SQLite file at db_path.
    database_url: str = ""
    # Redis carries live events between processes (redis://host:6379/0); empty: in-process.
    redis_url: str = ""
    # Names of Éclair's channel and key in Redis: one per installation sharing a server.
    redis_prefix: str = "eclair"
    # Server processes on one port (--workers): more than one needs redis_url.
    workers: int = 1
    demo: bool = False
    # Public address printed and encoded in QR codes; derived from host and port if empty.
    base_url: str = ""
    # Signs the organiser's session cookie; generated and kept in the database if empty.
    secret_key: str = ""
    # How often, at most, a projector is redrawn (seconds).
    screen_interval: float = 0.25
    # Writes waiting at once that go into one transaction.
    max_batch: int = 256
    # Back-pressure: past these, what people send gets a fast 503 with Retry-After.
    max_in_flight: int = 128  # HTTP requests in progress
    max_pending: int = 2048  # writes waiting for the writer
    # Rate limits (see limits.py): off only where every client is trusted (the benchmark).
    rate_limits: bool = True
    # Joins one network address may make into one séance: a room arriving at once (burst),
    # then late arrivals (per minute). The address's other budgets are sized on the burst.
    join_burst: int = 400
    join_per_minute: int = 120
    # Pending messages per WebSocket before the oldest are dropped.
    send_queue: int = 8
    secure_cookies: bool = False
    # Inbound SMS: the secret the gateway sends, and the number shown on the projector.
    sms_secret: str = ""
    sms_number: str = ""
    # Keys the hash of SMS phone numbers. Never in the database: from the environment, else
    # a file beside the database (created once, readable by its owner only).
    phone_key: str = ""
    phone_key_file: Path | None = None
    # Times of the day in reports (steps' start times) are given in this zone.
    timezone: str = "Europe/Paris"
    # The automatic purge of raw data past its retention: at start, then this often; 0: off.
    purge_hours: float = 24.0
    # Suggested themes by meaning (a sentence encoder, ~200 MiB once loaded); off: by
    # shared words only.
    themes_model: bool = True
    templates_dir: Path = field(default=PACKAGE / "templates")
    static_dir: Path = field(default=PACKAGE / "static")
    sessions_dir: Path = field(default=PACKAGE / "sessions")

    @property
    def public_url(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        host = "127.0.0.1" if self.host in {"0.0.0.0", "::", ""} else self.host  # noqa: S104
        return f"http://{host}:{self.port}"

    def phone_key_path(self) -> Path:
        return self.phone_key_file or self.db_path.with_name(self.db_path.name + ".phone-key")

    def load_phone_key(self) -> str:
        """The SMS number key: ECLAIR_PHONE_KEY, else its file, made on first use."""
        if self.phone_key:
            return self.phone_key
        path = self.phone_key_path()
        if not path.exists():
            import secrets

            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another worker process made it first
            else:
                with os.fdopen(fd, "w") as out:
                    out.write(secrets.token_urlsafe(32) + "\n")
        for _ in range(50):  # the worker that made it may still be writing it
            key = path.read_text().strip()
            if key:
                return key
            import time

            time.sleep(0.02)
        raise RuntimeError(f"the SMS number key file {path} is empty")

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Given the environment (ECLAIR_*), return settings; explicit overrides win."""
        values: dict[str, object] = {
            "host": os.environ.get("ECLAIR_HOST", cls.host),
            "port": int(os.environ.get("ECLAIR_PORT", cls.port)),
            "db_path": Path(os.environ["ECLAIR_DB"]) if os.environ.get("ECLAIR_DB")
            else default_db_path(),
            "database_url": os.environ.get("DATABASE_URL", ""),
            "redis_url": os.environ.get("REDIS_URL", ""),
            "redis_prefix": os.environ.get("ECLAIR_REDIS_PREFIX", cls.redis_prefix),
            "workers": int(os.environ.get("ECLAIR_WORKERS", cls.workers)),
            "demo": _env_bool("ECLAIR_DEMO"),
            "base_url": os.environ.get("ECLAIR_BASE_URL", ""),
            "secret_key": os.environ.get("ECLAIR_SECRET_KEY", ""),
            "secure_cookies": _env_bool("ECLAIR_SECURE_COOKIES"),
            "timezone": os.environ.get("ECLAIR_TIMEZONE", "Europe/Paris"),
            "sms_secret": os.environ.get("ECLAIR_SMS_SECRET", ""),
            "sms_number": os.environ.get("ECLAIR_SMS_NUMBER", ""),
            "phone_key": os.environ.get("ECLAIR_PHONE_KEY", ""),
            "phone_key_file": Path(os.environ["ECLAIR_PHONE_KEY_FILE"])
            if os.environ.get("ECLAIR_PHONE_KEY_FILE") else None,
            "max_in_flight": int(os.environ.get("ECLAIR_MAX_IN_FLIGHT", cls.max_in_flight)),
            "rate_limits": _env_bool("ECLAIR_RATE_LIMITS", cls.rate_limits),
            "join_burst": int(os.environ.get("ECLAIR_JOIN_BURST", cls.join_burst)),
            "join_per_minute": int(os.environ.get("ECLAIR_JOIN_PER_MINUTE",
                                                  cls.join_per_minute)),
            "purge_hours": float(os.environ.get("ECLAIR_PURGE_HOURS", cls.purge_hours)),
            "themes_model": _env_bool("ECLAIR_THEMES_MODEL", cls.themes_model),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
