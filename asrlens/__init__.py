"""asrlens: how well a speech recognizer does on your dataset, and why it fails."""

from asrlens.defaults import DB as DEFAULT_DB  # noqa: F401 (asrlens.DEFAULT_DB)

__version__ = "0.1.0"

# DEFAULT_DB: the database file used when neither --db nor $ASRLENS_DB names one.

ENV_DB = "ASRLENS_DB"
"""Environment variable naming the database file."""
