"""Alembic migrations of the central server's database (SQLite and PostgreSQL)."""
