"""The only place with SQL: schema, migrations and the queries of every feature."""

from __future__ import annotations

from typing import TYPE_CHECKING

from facilitation.store.database import Database, Overloaded, Unavailable

if TYPE_CHECKING:
    from facilitation.settings import Settings

__all__ = ["Database", "Overloaded", "Unavailable", "connect"]


def connect(settings: Settings) -> Database:
    """The store the settings name: PostgreSQL for DATABASE_URL, else the SQLite file."""
    if settings.database_url:
        from facilitation.store.postgres import PostgresDatabase

        return PostgresDatabase(settings.database_url, settings.max_batch, settings.max_pending)
    return Database(settings.db_path, settings.max_batch, settings.max_pending)
