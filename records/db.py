"""Opening the database: engine, SQLite pragmas, and Alembic migrations to the newest schema."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from chartclerk_errors import StoreError
from records.migrations.versions import HEAD

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # WAL lets the CLI read while the daemon writes; busy_timeout rides out a brief lock
    # held by another process instead of failing the ingest at once.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    """An Alembic config that runs this package's migrations on ``engine``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def open_engine(url: str) -> Engine:
    """Create an engine for ``url`` and bring its schema to the newest version.

    Args:
        url: an SQLAlchemy database URL, e.g. ``sqlite:////var/lib/chartclerk/chartclerk.db``.

    Returns:
        The engine, with the schema migrated.

    Raises:
        StoreError: the database cannot be opened or migrated.
    """
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Bound parameters (MRNs, names, dates of birth) never appear in a database error.
    engine = create_engine(url, future=True, hide_parameters=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        with engine.begin() as connection:
            if _revision(connection) != HEAD:
                _upgrade(engine, connection)
    except OperationalError as exc:
        raise StoreError(f"cannot open the database: {exc.orig}") from exc
    return engine


def _revision(connection: Connection) -> str | None:
    """The schema revision a database is stamped with; None for a new one."""
    try:
        with connection.begin_nested():
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except OperationalError:
        return None  # no alembic_version table: a new database


def _upgrade(engine: Engine, connection: Connection) -> None:
    from alembic import command

    config = alembic_config(engine)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def integrity_check(engine: Engine) -> str:
    """Run SQLite's integrity check; returns ``"ok"`` when the file is sound."""
    try:
        with engine.connect() as connection:
            return str(connection.execute(text("PRAGMA integrity_check")).scalar())
    except SQLAlchemyError as exc:
        raise StoreError(f"integrity check failed: {getattr(exc, 'orig', exc)}") from exc
