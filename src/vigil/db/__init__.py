"""SQLAlchemy tables and Alembic migrations (SQLite by default, PostgreSQL in production)."""
