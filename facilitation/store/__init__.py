"""The only place with SQL: schema, migrations and the queries of every feature."""

from facilitation.store.database import Database

__all__ = ["Database"]
