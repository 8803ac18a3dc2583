"""Storage: SQLAlchemy Core over SQLite or PostgreSQL. The only package that knows tables."""
