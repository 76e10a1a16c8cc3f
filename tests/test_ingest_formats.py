"""Audio formats and the level statistics read from them: what libsndfile decodes is
described exactly (header facts) and the statistics follow their documented definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile as sf

from asrlens.db import connect, query
from asrlens.ingest import ingest
from asrlens.ingest.audio_stats import read_audio_facts

FORMATS = [
    # (file name, soundfile format, subtype, rate, channels)
    ("pcm16.wav", "WAV", "PCM_16", 22_050, 1),
    ("pcm24.wav", "WAV", "PCM_24", 16_000, 1),
    ("pcm32.wav", "WAV", "PCM_32", 16_000, 1),
    ("float.wav", "WAV", "FLOAT", 16_000, 1),
    ("double.wav", "WAV", "DOUBLE", 16_000, 1),
    ("stereo.wav", "WAV", "PCM_16", 44_100, 2),
    ("narrow.wav", "WAV", "PCM_16", 8_000, 1),
    ("lossless.flac", "FLAC", "PCM_16", 44_100, 1),
    ("vorbis.ogg", "OGG", "VORBIS", 22_050, 1),
    ("lossy.mp3", "MP3", "MPEG_LAYER_III", 22_050, 1),
]
LOSSY = {"VORBIS", "MPEG_LAYER_III"}


def tone(rate: int, channels: int, seconds: float = 1.25, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    mono = amplitude * np.sin(2 * np.pi * 440 * t)
    return np.stack([mono * (1 - 0.5 * c) for c in range(channels)], axis=1)


@pytest.mark.parametrize(("name", "fmt", "subtype", "rate", "channels"), FORMATS)
def test_each_format_is_read_with_its_header_facts(tmp_path, name, fmt, subtype, rate, channels):
    path = tmp_path / name
    sf.write(path, tone(rate, channels), rate, format=fmt, subtype=subtype)
    facts = read_audio_facts(path)
    info = sf.info(path)
    assert facts.problem is None, facts.message
    assert (facts.format, facts.subtype) == (fmt, subtype)
    assert (facts.sample_rate, facts.channels, facts.frames) == (rate, channels, info.frames)
    assert facts.duration_s == info.duration
    tolerance = 0.5 if subtype in LOSSY else 0.05  # dB; lossy codecs move the peak
    assert facts.peak_dbfs == pytest.approx(20 * math.log10(0.5), abs=tolerance)


def test_ingest_stores_every_format_and_pairs_labels_by_stem(tmp_path):
    folder = tmp_path / "formats"
    (folder / "wavs").mkdir(parents=True)
    labels = []
    for name, fmt, subtype, rate, channels in FORMATS:
        sf.write(folder / "wavs" / name, tone(rate, channels), rate, format=fmt, subtype=subtype)
        labels.append(f"{name.split('.')[0]}|text")
    sf.write(folder / "wavs" / "upper.WAV", tone(16_000, 1), 16_000)
    labels.append("upper|upper-case extension")
    (folder / "labels.csv").write_text("\n".join(labels) + "\n")
    engine = connect(tmp_path / "t.duckdb")
    try:
        summary = ingest(engine, folder, progress=False)
        stored = query(engine, "select u.utt_id, u.audio_path, a.format, a.channels "
                               "from utterances u join audio_files a on a.path = u.audio_path "
                               "order by u.utt_id")
    finally:
        engine.dispose()
    assert (summary.utterances, summary.with_audio, summary.issues_by_kind) == (11, 11, {})
    by_id = {r["utt_id"]: r for r in stored}
    assert by_id["lossless"]["audio_path"] == "wavs/lossless.flac"
    assert by_id["vorbis"]["format"] == "OGG"
    assert by_id["lossy"]["audio_path"] == "wavs/lossy.mp3"
    assert by_id["stereo"]["channels"] == 2
    assert by_id["upper"]["audio_path"] == "wavs/upper.WAV"


def test_wav_is_preferred_when_several_files_share_the_id(tmp_path):
    folder = tmp_path / "ds"
    (folder / "wavs").mkdir(parents=True)
    sf.write(folder / "wavs" / "a.flac", tone(16_000, 1), 16_000)
    sf.write(folder / "wavs" / "a.wav", tone(16_000, 1), 16_000)
    (folder / "labels.csv").write_text("a|text\n")
    engine = connect(tmp_path / "t.duckdb")
    try:
        summary = ingest(engine, folder, progress=False)
        (utt,) = query(engine, "select audio_path from utterances")
    finally:
        engine.dispose()
    assert utt["audio_path"] == "wavs/a.wav"
    assert summary.issues_by_kind == {"unlabelled_audio": 1}


def test_csv_labels_with_paths_find_audio_in_other_folders(tmp_path):
    folder = tmp_path / "cv"
    (folder / "clips").mkdir(parents=True)
    sf.write(folder / "clips" / "x1.ogg", tone(16_000, 1), 16_000, format="OGG")
    (folder / "labels.tsv").write_text("path\tsentence\nclips/x1.ogg\tHello there\n")
    engine = connect(tmp_path / "t.duckdb")
    try:
        summary = ingest(engine, folder, progress=False)
        (utt,) = query(engine, "select utt_id, transcript, audio_path from utterances")
    finally:
        engine.dispose()
    assert summary.labels_format == "tsv"
    assert utt == {"utt_id": "x1", "transcript": "Hello there", "audio_path": "clips/x1.ogg"}


def test_level_statistics_follow_their_definitions(tmp_path):
    rate = 16_000
    loud = 0.5 * np.sin(2 * np.pi * 300 * np.arange(rate) / rate)  # 1 s at -6 dBFS peak
    quiet = np.full(rate // 2, 0.001)  # 0.5 s at -60 dBFS: more than 40 dB below the peak
    samples = np.concatenate([loud, quiet])
    path = tmp_path / "levels.wav"
    sf.write(path, samples, rate, subtype="FLOAT")
    facts = read_audio_facts(path)
    x = sf.read(path, dtype="float32")[0].astype(np.float64)
    assert facts.peak_dbfs == pytest.approx(20 * math.log10(np.abs(x).max()), abs=1e-6)
    assert facts.rms_dbfs == pytest.approx(10 * math.log10(np.mean(x**2)), abs=1e-4)
    assert facts.clipped_fraction == 0.0
    frames = 60  # 1.5 s of 25 ms frames: 40 loud, 20 quiet
    assert facts.silence_fraction == pytest.approx(20 / frames)


def test_clipping_is_the_fraction_of_samples_at_full_scale(tmp_path):
    rate = 8_000
    samples = np.zeros((rate, 2))
    samples[:100, 0] = 1.0
    samples[:50, 1] = -1.0
    samples[100:200, :] = 0.5
    path = tmp_path / "clipped.wav"
    sf.write(path, samples, rate, subtype="PCM_16")
    facts = read_audio_facts(path)
    assert facts.clipped_fraction == pytest.approx(150 / (2 * rate))
    assert facts.peak_dbfs == pytest.approx(0.0, abs=0.01)


def test_digital_silence_has_no_levels_and_is_all_silent(tmp_path):
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(4_000), 16_000, subtype="PCM_16")
    facts = read_audio_facts(path)
    assert facts.problem is None
    assert (facts.peak_dbfs, facts.rms_dbfs, facts.silence_fraction) == (None, None, 1.0)


def test_long_files_are_read_in_blocks_with_the_same_result(tmp_path, monkeypatch):
    import asrlens.ingest.audio_stats as audio_stats

    rate = 16_000
    rng = np.random.default_rng(0)
    n = rate * 3 + 123
    samples = rng.uniform(-0.8, 0.8, (n, 2)) * np.linspace(0, 1, n)[:, None]
    path = tmp_path / "long.wav"
    sf.write(path, samples, rate, subtype="FLOAT")
    whole = read_audio_facts(path)
    monkeypatch.setattr(audio_stats, "BLOCK_FRAMES", 4_000)  # 10 frames of 400 samples
    blocked = read_audio_facts(path)
    for field in ("peak_dbfs", "rms_dbfs", "clipped_fraction", "silence_fraction", "frames"):
        assert getattr(blocked, field) == pytest.approx(getattr(whole, field), rel=1e-6)
