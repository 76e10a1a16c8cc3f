"""The database's health: who owns a running run (owner), and `asrlens doctor` (doctor)."""
