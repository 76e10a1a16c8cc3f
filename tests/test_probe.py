"""`asrlens probe`: seeded non-speech clips at their documented levels, ingested with empty
references, transcribed as a normal run; characters per minute per clip kind."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from asrlens.cli import cli
from asrlens.db import connect, query
from asrlens.infer.recognizers import RECOGNIZERS, Hypothesis, HypWord, Recognizer
from asrlens.ingest import probe_clips
from asrlens.pipeline import probe
from asrlens.settings import InferSettings


def _dbfs(x: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


def test_clips_have_their_documented_levels_and_are_seeded(tmp_path):
    ids = probe_clips.write_probe_dataset(tmp_path / "a", seed=3)
    probe_clips.write_probe_dataset(tmp_path / "b", seed=3)
    assert ids == [f"{k}-0" for k in probe_clips.KINDS]
    levels = {}
    for utt_id in ids:
        a, rate = sf.read(tmp_path / "a" / "wavs" / f"{utt_id}.wav")
        b, _ = sf.read(tmp_path / "b" / "wavs" / f"{utt_id}.wav")
        assert rate == 16000 and len(a) == 160000 and np.array_equal(a, b)
        levels[utt_id.rsplit("-", 1)[0]] = a
    assert not levels["silence"].any()
    assert _dbfs(levels["white_noise"]) == pytest.approx(-50, abs=0.2)
    assert _dbfs(levels["pink_noise"]) == pytest.approx(-50, abs=0.2)
    assert _dbfs(levels["tone"]) == pytest.approx(-20, abs=0.1)
    assert _dbfs(levels["speech_shaped_noise"]) == pytest.approx(-25, abs=0.1)
    spectrum = np.abs(np.fft.rfft(levels["speech_shaped_noise"])) ** 2
    freqs = np.fft.rfftfreq(160000, 1 / 16000)
    band = lambda lo, hi: spectrum[(freqs >= lo) & (freqs < hi)].mean()  # noqa: E731
    assert band(200, 400) / band(2000, 4000) > 30  # about 20 dB down at 3 kHz
    assert band(0, 90) < band(200, 400) / 100


class ChattyRecognizer(Recognizer):
    """Writes 'thank you' per second of audio louder than -60 dBFS, nothing on silence."""

    name = "chatty"
    model = "test"

    def __init__(self, **options):
        pass

    def transcribe(self, samples: np.ndarray) -> Hypothesis:
        if not np.any(samples) or _dbfs(samples) < -60:
            return Hypothesis(text="")
        words = []
        for s in range(int(len(samples) / self.sample_rate)):
            words += [HypWord("thank", s, s + 0.3), HypWord("you", s + 0.3, s + 0.6)]
        return Hypothesis(text=" ".join(w.word for w in words), words=words)


@pytest.fixture
def chatty(monkeypatch):
    monkeypatch.setitem(RECOGNIZERS, "chatty", "test_probe:ChattyRecognizer")


def test_probe_stores_a_run_and_counts_characters_per_minute(chatty, tmp_path):
    engine = connect(tmp_path / "p.duckdb")
    try:
        result = probe(engine, settings=InferSettings(engine_name="chatty"),
                       folder=tmp_path / "clips", progress=False)
        rows = {r["kind"]: r for r in result.rows}
        assert list(rows) == list(probe_clips.KINDS)
        assert rows["silence"]["chars_per_minute"] == 0 and rows["silence"]["words"] == 0
        # 10 x 'thank you' = 80 letters in 10 s: 480 per minute
        assert rows["tone"]["chars_per_minute"] == pytest.approx(480)
        assert rows["white_noise"]["chars_per_minute"] == pytest.approx(480)
        run = query(engine, "select * from runs where run_id = 'probe-chatty'")
        assert run and run[0]["dataset"] == "probe" and run[0]["status"] == "finished"
        loops = query(engine, "select count(*) as n from hallucination_events "
                              "where run_id = 'probe-chatty' and kind = 'loop'")
        assert loops[0]["n"] == 4  # every clip but silence
        files = query(engine, "select files, files_flagged from hallucination_summary "
                              "where run_id = 'probe-chatty'")
        assert files == [{"files": 5, "files_flagged": 4}]  # silence: no words, still a file
        assert result.lines()[1].split()[:2] == ["silence", "0.0"]
    finally:
        engine.dispose()


def test_probe_on_a_new_database_creates_it(chatty, tmp_path):
    """probe ingests its own dataset, so unlike the reading commands it may make the file."""
    db = tmp_path / "new.duckdb"
    result = CliRunner().invoke(cli, ["probe", "--engine", "chatty", "--db", str(db),
                                      "--out", str(tmp_path / "clips"), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert db.exists() and result.output.startswith("Probe run probe-chatty:")


def test_probe_without_engine_is_a_clean_error(tmp_path):
    result = CliRunner().invoke(cli, ["probe", "--db", str(tmp_path / "p.duckdb"),
                                      "--out", str(tmp_path / "clips")])
    assert result.exit_code == 1
    assert result.output.startswith("Error: asrlens probe needs --engine")


@pytest.mark.slow
def test_probe_runs_wav2vec2_with_placeholder_weights(placeholder_torch_home, tmp_path):
    """Proves only that the probe runs end to end with wav2vec2: the weights are random, so
    its characters per minute say nothing about the real model."""
    db = tmp_path / "p.duckdb"
    result = CliRunner().invoke(cli, ["probe", "--engine", "wav2vec2", "--db", str(db),
                                      "--out", str(tmp_path / "clips"), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Probe run probe-wav2vec2:")
    engine = connect(db, read_only=True)
    try:
        rows = query(engine, "select * from probe_results where run_id = 'probe-wav2vec2'")
    finally:
        engine.dispose()
    assert sorted(r["kind"] for r in rows) == sorted(probe_clips.KINDS)
    assert all(r["clips"] == 1 and r["chars_per_minute"] is not None for r in rows)
