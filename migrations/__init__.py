"""The Alembic migrations (run through Flask-Migrate); `migrations.guard` is shared by the revisions."""
