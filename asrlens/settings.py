"""The settings of a stage as one object, carried from the command line to the functions.

    settings = InferSettings(engine_name="pocketsphinx", limit=20)
    infer(engine, dataset="ljspeech-sample", **settings.infer_kwargs())

`asrlens infer` and `asrlens run` build InferSettings from the same options
(asrlens.commands.common), `asrlens ingest` and `asrlens run` build IngestSettings, and
asrlens.pipeline passes them on: a new option is a field here and an option there, nothing
else. Defaults come from asrlens.defaults; None means "the function's default" (for infer: the
stored run's setting when resuming). Importing this module does not import torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from asrlens import defaults


@dataclass(frozen=True)
class InferSettings:
    """How `infer` transcribes and scores (see asrlens.infer.run.infer for each)."""

    engine_name: str | None = None
    model: str | None = None
    checkpoint: str | None = None
    device: str = defaults.DEVICE
    precision: str | None = None
    limit: int | None = None
    run_id: str | None = None
    normalizer: str | None = None
    alignment: str | None = None
    batch_files: int = defaults.BATCH_FILES
    chunk_s: float | None = None  # engine options: passed only when given
    overlap_s: float | None = None
    beam_size: int | None = None
    cpu_kernels: str | None = None
    batch_audio_s: float | None = None
    temperature_fallback: bool | None = None  # whisper only
    read_workers: int | None = None
    ray: str | None = None  # a Ray cluster's address, 'local' for one on this machine

    ENGINE_OPTIONS = ("chunk_s", "overlap_s", "temperature_fallback", "beam_size",
                      "cpu_kernels")

    def infer_kwargs(self) -> dict:
        """Keyword arguments for asrlens.infer.infer (engine options only when given)."""
        return {key: value for key, value in asdict(self).items()
                if key not in self.ENGINE_OPTIONS or value is not None}


@dataclass(frozen=True)
class IngestSettings:
    """How `ingest` loads a dataset (see asrlens.ingest.ingest)."""

    name: str | None = None
    labels: str | None = None
    workers: int | None = None
    zip_max_size: str = defaults.ZIP_MAX_SIZE
    zip_max_ratio: float = defaults.ZIP_MAX_RATIO
    zip_max_entries: int = defaults.ZIP_MAX_ENTRIES
    layout: str = "auto"
    speaker_column: str | None = None
    allow_outside_paths: bool = False

    def ingest_kwargs(self) -> dict:
        """Keyword arguments for asrlens.ingest.ingest / ingest_into (the zip limits as one
        ZipLimits; a bad --zip-max-size raises AsrlensError)."""
        from asrlens.ingest.source import ZipLimits, parse_size

        limits = ZipLimits(max_bytes=parse_size(self.zip_max_size),
                           max_ratio=self.zip_max_ratio, max_entries=self.zip_max_entries)
        return {"name": self.name, "labels": self.labels, "workers": self.workers,
                "zip_limits": limits, "layout": self.layout,
                "speaker_column": self.speaker_column,
                "allow_outside_paths": self.allow_outside_paths}
