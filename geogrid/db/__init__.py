"""The spatial database: engine, models, sessions and migrations."""
