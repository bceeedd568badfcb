"""Database tables, repository, search and migrations.

db = Database.from_url(settings.database_url.get_secret_value())
await db.prepare()                      # reachable + schema at head (SQLite self-migrates)
async with db.transaction() as repo:    # one transaction
    recipe = await repo.add_recipe(owner_telegram_id, "Crêpes", ingredients, "fr")
"""

from just_ingredients.storage.database import Database
from just_ingredients.storage.engine import create_engine, parse_database_url, redact
from just_ingredients.storage.errors import (
    DatabaseUnavailable,
    InvalidDatabaseUrl,
    SchemaOutOfDate,
    StorageError,
)
from just_ingredients.storage.migrate import (
    current_revision,
    downgrade,
    ensure_schema_at_head,
    head_revision,
    upgrade,
)
from just_ingredients.storage.repository import (
    InboxEntry,
    OcrEntry,
    Page,
    RecipeSummary,
    Repository,
)
from just_ingredients.storage.search import fold

__all__ = [
    "Database",
    "DatabaseUnavailable",
    "InboxEntry",
    "InvalidDatabaseUrl",
    "OcrEntry",
    "Page",
    "RecipeSummary",
    "Repository",
    "SchemaOutOfDate",
    "StorageError",
    "create_engine",
    "current_revision",
    "downgrade",
    "ensure_schema_at_head",
    "fold",
    "head_revision",
    "parse_database_url",
    "redact",
    "upgrade",
]
