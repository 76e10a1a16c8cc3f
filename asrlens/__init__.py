"""asrlens: how well a speech recognizer does on your dataset, and why it fails."""

__version__ = "0.1.0"

DEFAULT_DB = "asrlens.duckdb"
"""Database file used when neither --db nor $ASRLENS_DB names one."""

ENV_DB = "ASRLENS_DB"
"""Environment variable naming the database file."""
