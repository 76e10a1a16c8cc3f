"""Ingest: a dataset folder or .zip (labels + audio) -> the datasets, utterances, audio_files
and ingest_issues tables. No model code here.

    from asrlens.ingest import ingest
    summary = ingest(engine, "speechdata.zip")
"""

from asrlens.ingest.pipeline import IngestSummary, ingest, ingest_into

__all__ = ["IngestSummary", "ingest", "ingest_into"]
