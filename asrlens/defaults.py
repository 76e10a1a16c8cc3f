"""Every user-facing default, defined once: the commands' options and the library's functions
both read them from here.

Importing this module imports nothing else (no torch, no database), so `asrlens --help` and
the option definitions stay fast. Units are in the names (_S: seconds, _BYTES: bytes).
"""

from __future__ import annotations

DB = "asrlens.duckdb"
"""Database file used when neither --db nor $ASRLENS_DB names one."""

# --- ingest --------------------------------------------------------------------------------

ZIP_MAX_BYTES = 20 * 1024**3
"""A zip's total uncompressed size at most (20 GiB; LJSpeech unpacks to 3.6 GB)."""
ZIP_MAX_SIZE = "20G"
"""ZIP_MAX_BYTES as --zip-max-size writes it."""
ZIP_MAX_RATIO = 200
"""One entry's uncompressed / compressed size at most (audio compresses 1-10 fold; deflate's
best is about 1032, which is what a zip bomb uses)."""
ZIP_MAX_ENTRIES = 500_000
"""Entries in a zip at most (LJSpeech has 13,104)."""

# --- infer ---------------------------------------------------------------------------------

ENGINE = "wav2vec2"  # the recognizer of a new run
WAV2VEC2_MODEL = "WAV2VEC2_ASR_BASE_960H"  # torchaudio bundle of --engine wav2vec2 and explore
DEVICE = "auto"  # where the model runs: auto takes a GPU when there is one
PRECISION, PRECISIONS = "fp32", ("fp32", "bf16", "fp16", "int8")
"""Compute precisions; int8 (whisper only) is a CTranslate2 compute type. A new run without
--precision takes its engine's default: fp32, but whisper int8 on CPU and fp16 on a GPU."""
NORMALIZER = "ljspeech"  # text normalization before scoring (infer.normalize.NORMALIZERS)
ALIGNMENT, ALIGNMENTS = "unit", ("unit", "sclite")
"""Word alignment costs: unit (every edit costs 1) or sclite (substitution 4, insertion and
deletion 3)."""
CPU_KERNELS, CPU_KERNELS_CHOICES = "onednn", ("stock", "onednn")
"""wav2vec2 on CPU: torchaudio's kernels (stock) or oneDNN's packed ones, checked against the
stock model at load and replaced by it when they disagree or fail (BENCHMARKS.md: what they
gain)."""
BATCH_FILES = 8  # a run commits its results every this many files (or every 10 s)

# --- output formats: jsonl is one JSON object per line, json one JSON document -------------

SQL_FORMATS = ("table", "csv", "json", "jsonl")  # asrlens sql --format
EXPORT_FORMATS = ("trn", "csv", "jsonl")  # asrlens export --format
EXPORT_FORMAT = "csv"

# --- explore, report -----------------------------------------------------------------------

EXPLORE_OUT_DIR = "explore"
EXPLORE_MODEL = WAV2VEC2_MODEL
REPORT_OUT_DIR = "asrlens-report"
AUDIO_MODES = ("embed", "link", "none")
REPORT_AUDIO = "embed"
REPORT_TOP_N = 20
"""Files listed in the worst-files section."""
SEED = 0
"""Seeds the report's sampled file and bootstrap intervals, and compare's bootstrap."""
BOOTSTRAP_REPLICATES = 1000
"""Bootstrap replicates of compare (files resampled with replacement)."""

LAYOUTS = ("ljspeech", "librispeech", "commonvoice", "nemo", "kaldi", "parquet", "csv")
"""`asrlens ingest --layout` choices besides auto (asrlens/ingest/layouts)."""
