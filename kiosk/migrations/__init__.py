"""Alembic migrations of the device database; run in place on every start."""
