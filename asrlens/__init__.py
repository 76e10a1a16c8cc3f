"""asrlens: how well a speech recognizer does on your dataset, and why it fails."""

__version__ = "0.1.0"
