"""Typed settings, read from the environment and then the command line."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
    db_path: Path = ROOT / "data" / "eclair.db"
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
    # Pending messages per WebSocket before the oldest are dropped.
    send_queue: int = 8
    secure_cookies: bool = False
    # Inbound SMS: the secret the gateway sends, and the number shown on the projector.
    sms_secret: str = ""
    sms_number: str = ""
    # Times of the day in reports (steps' start times) are given in this zone.
    timezone: str = "Europe/Paris"
    # The automatic purge of raw data past its retention: at start, then this often; 0: off.
    purge_hours: float = 24.0
    templates_dir: Path = field(default=ROOT / "templates")
    static_dir: Path = field(default=ROOT / "static")
    sessions_dir: Path = field(default=ROOT / "sessions")

    @property
    def public_url(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        host = "127.0.0.1" if self.host in {"0.0.0.0", "::", ""} else self.host  # noqa: S104
        return f"http://{host}:{self.port}"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Given the environment (ECLAIR_*), return settings; explicit overrides win."""
        values: dict[str, object] = {
            "host": os.environ.get("ECLAIR_HOST", cls.host),
            "port": int(os.environ.get("ECLAIR_PORT", cls.port)),
            "db_path": Path(os.environ.get("ECLAIR_DB", str(ROOT / "data" / "eclair.db"))),
            "demo": _env_bool("ECLAIR_DEMO"),
            "base_url": os.environ.get("ECLAIR_BASE_URL", ""),
            "secret_key": os.environ.get("ECLAIR_SECRET_KEY", ""),
            "secure_cookies": _env_bool("ECLAIR_SECURE_COOKIES"),
            "timezone": os.environ.get("ECLAIR_TIMEZONE", "Europe/Paris"),
            "sms_secret": os.environ.get("ECLAIR_SMS_SECRET", ""),
            "sms_number": os.environ.get("ECLAIR_SMS_NUMBER", ""),
            "max_in_flight": int(os.environ.get("ECLAIR_MAX_IN_FLIGHT", cls.max_in_flight)),
            "purge_hours": float(os.environ.get("ECLAIR_PURGE_HOURS", cls.purge_hours)),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
