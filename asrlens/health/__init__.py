"""The database's health: `asrlens doctor` (doctor). Who owns a run is asrlens.owner, below
the database layer, since connect() marks runs whose process is gone."""
