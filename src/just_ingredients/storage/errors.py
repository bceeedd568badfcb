"""Typed storage errors. Messages are one line, safe to show, and never contain a password."""

from __future__ import annotations


class StorageError(Exception):
    """Base class of every error raised by `just_ingredients.storage`."""


class InvalidDatabaseUrl(StorageError):
    """DATABASE_URL cannot be parsed or names an unsupported database."""


class DatabaseUnavailable(StorageError):
    """The database server cannot be reached or refused the connection."""


class SchemaOutOfDate(StorageError):
    """The database schema is not at the revision this code expects."""
