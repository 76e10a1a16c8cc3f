"""`asrlens explore`: one file up close — its numbers, its plots, its wav2vec2 view."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
import soundfile as sf
import torch
from click.testing import CliRunner

from asrlens.cli import cli
from asrlens.db import connect, query
from asrlens.errors import AsrlensError
from asrlens.explore import figures, pick_utterance
from asrlens.explore import wav2vec2_view as w2v

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
AUDIO_PLOTS = ("waveform.png", "spectrogram.png", "mfcc.png")
WAV2VEC2_PLOTS = ("features.png", "emissions.png")
SHORTEST = "LJ001-0008"  # 1.78 s: the cheapest file to push through wav2vec2


def run_explore(db: Path, out: Path, *args: str):
    return CliRunner().invoke(cli, ["explore", "--db", str(db), "--out", str(out), *args])


def assert_png(path: Path) -> np.ndarray:
    """The file is a PNG matplotlib can read back; returns its pixels."""
    assert path.is_file(), f"{path} was not written"
    assert path.read_bytes()[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert pixels.std() > 0, f"{path} is a blank image"
    return pixels


def chosen_utt(output: str) -> str:
    match = re.search(r"^utterance (\S+) of dataset", output, re.MULTILINE)
    assert match, output
    return match.group(1)


# --- choosing the file ----------------------------------------------------------------------


def test_explore_prints_shape_rate_and_duration_as_soundfile_reads_them(ingested_db, sample_dir,
                                                                        tmp_path):
    result = run_explore(ingested_db, tmp_path / "out", "--utt", "LJ001-0001", "--no-wav2vec2")

    assert result.exit_code == 0, result.output
    info = sf.info(sample_dir / "wavs" / "LJ001-0001.wav")
    assert f"(channels, frames) = ({info.channels}, {info.frames})" in result.output
    assert f"sample rate {info.samplerate} Hz" in result.output
    assert f"duration {info.frames / info.samplerate:.3f} s" in result.output
    assert "seed" not in result.output.split("\n")[0]  # --utt: no random choice, no seed


def test_explore_writes_the_three_audio_plots_as_pngs(ingested_db, tmp_path):
    out = tmp_path / "new" / "folder"
    result = run_explore(ingested_db, out, "--utt", SHORTEST, "--no-wav2vec2")

    assert result.exit_code == 0, result.output
    for name in AUDIO_PLOTS:
        assert_png(out / name)
        assert f"wrote {out / name}" in result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(AUDIO_PLOTS)


def test_same_seed_picks_the_same_file_and_draws_the_same_figure(ingested_db, tmp_path):
    first = run_explore(ingested_db, tmp_path / "a", "--seed", "11", "--no-wav2vec2")
    second = run_explore(ingested_db, tmp_path / "b", "--seed", "11", "--no-wav2vec2")

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert chosen_utt(first.output) == chosen_utt(second.output)
    for name in AUDIO_PLOTS:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_without_a_seed_the_printed_seed_reproduces_the_choice(ingested_db, tmp_path):
    engine = connect(ingested_db, read_only=True)
    try:
        drawn = {pick_utterance(engine)["seed"] for _ in range(5)}
        first = pick_utterance(engine)
        again = pick_utterance(engine, seed=first["seed"])
    finally:
        engine.dispose()
    assert len(drawn) > 1, "the seed must change from one call to the next"
    assert again["utt_id"] == first["utt_id"]

    result = run_explore(ingested_db, tmp_path / "a", "--no-wav2vec2")
    assert result.exit_code == 0, result.output
    seed = re.search(r"^seed (\d+) \(repeat this choice with --seed \1\)", result.output, re.M)
    assert seed, result.output
    repeat = run_explore(ingested_db, tmp_path / "b", "--seed", seed.group(1), "--no-wav2vec2")
    assert chosen_utt(repeat.output) == chosen_utt(result.output)


def test_random_choice_only_picks_utterances_with_readable_audio(ingested_db, sample_dir):
    with_audio = {p.stem for p in (sample_dir / "wavs").glob("*.wav")}
    engine = connect(ingested_db, read_only=True)
    try:
        picked = [pick_utterance(engine, seed=seed) for seed in range(60)]
    finally:
        engine.dispose()

    assert {row["utt_id"] for row in picked} <= with_audio  # 68 of 100 labels have no audio
    assert len({row["utt_id"] for row in picked}) > 10  # and the choice does vary
    row = picked[0]
    assert (Path(row["root"]) / row["audio_path"]).is_file()
    assert row["seed"] == 0


# --- errors the user can cause --------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--utt", "LJ999-9999"], "Error: no utterance 'LJ999-9999'"),
        (["--utt", "LJ001-0050"],
         "Error: utterance 'LJ001-0050' has no readable audio: its audio file is missing"),
        (["--dataset", "nope"], "Error: no dataset named 'nope' in the database"),
        (["--seed", "1", "--utt", "LJ001-0001"], "Error: give either --seed or --utt"),
        (["--layers", "1,x"], "Error: --layers '1,x': expected 1-based layer numbers"),
        (["--layers", "13"], "Error: --layers: the model has 12 transformer layers"),
        (["--model", "WHISPER"], "Error: unknown wav2vec2 model 'WHISPER'"),
    ],
)
def test_bad_choices_fail_with_one_clear_line_and_write_nothing(ingested_db, tmp_path, args,
                                                                message):
    out = tmp_path / "out"
    result = run_explore(ingested_db, out, *args)

    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert not out.exists() or not any(out.iterdir())


def test_an_empty_database_says_to_ingest_first(db_path, tmp_path):
    connect(db_path).dispose()  # schema only, nothing ingested

    result = run_explore(db_path, tmp_path / "out")

    assert result.exit_code == 1
    assert "Error: the database holds no dataset: run `asrlens ingest DATASET` first" in (
        result.output)


def test_a_dataset_without_any_readable_audio_is_an_error(db_path, tmp_path):
    folder = tmp_path / "no-audio"
    (folder / "wavs").mkdir(parents=True)
    (folder / "labels.csv").write_text("a1|Hello there.|Hello there.\n", encoding="utf-8")
    (folder / "wavs" / "a1.wav").write_bytes(b"RIFF not really a wav")
    _ingest(db_path, folder)

    result = run_explore(db_path, tmp_path / "out", "--no-wav2vec2")
    assert result.exit_code == 1
    assert "Error: no utterance in this database has readable audio" in result.output

    by_id = run_explore(db_path, tmp_path / "out", "--utt", "a1")
    assert by_id.exit_code == 1
    assert "Error: utterance 'a1' has no readable audio: its audio file wavs/a1.wav could " \
           "not be read" in by_id.output


def test_audio_deleted_since_ingest_is_an_error_naming_the_file(db_path, tmp_path):
    folder = tmp_path / "gone"
    (folder / "wavs").mkdir(parents=True)
    sf.write(folder / "wavs" / "g1.wav", np.zeros(1600, dtype=np.float32), 16000)
    (folder / "labels.csv").write_text("g1|Quiet.|Quiet.\n", encoding="utf-8")
    _ingest(db_path, folder)
    (folder / "wavs" / "g1.wav").unlink()

    result = run_explore(db_path, tmp_path / "out", "--utt", "g1")

    assert result.exit_code == 1
    assert f"{folder / 'wavs' / 'g1.wav'}, is gone since it was ingested" in result.output


def test_a_missing_database_says_to_ingest_first(tmp_path):
    result = run_explore(tmp_path / "absent.duckdb", tmp_path / "out")

    assert result.exit_code == 1
    assert "run `asrlens ingest DATASET` first" in result.output


# --- multi-channel audio --------------------------------------------------------------------


def test_a_stereo_file_shows_both_channels_and_plots_the_mix(db_path, tmp_path):
    folder = tmp_path / "stereo"
    (folder / "wavs").mkdir(parents=True)
    rate, seconds = 16000, 1.5
    t = np.arange(int(rate * seconds)) / rate
    stereo = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.25 * np.sin(2 * np.pi * 880 * t)], 1)
    sf.write(folder / "wavs" / "s1.wav", stereo, rate, subtype="PCM_16")
    (folder / "labels.csv").write_text("s1|Two tones.|Two tones.\n", encoding="utf-8")
    _ingest(db_path, folder)
    out = tmp_path / "out"

    result = run_explore(db_path, out, "--utt", "s1", "--no-wav2vec2")

    assert result.exit_code == 0, result.output
    assert f"(channels, frames) = (2, {len(t)})" in result.output
    assert "sample rate 16000 Hz, duration 1.500 s" in result.output
    for name in AUDIO_PLOTS:
        assert_png(out / name)
    wave = figures.waveform_figure(stereo.astype(np.float32), rate, title="s1")
    assert len(wave.axes) == 2  # one panel per channel


# --- the figure functions (shared with the HTML report) -------------------------------------


@pytest.fixture(scope="module")
def tone():
    """1 s of a 1 kHz tone at half scale, 16 kHz."""
    rate = 16000
    return (0.5 * np.sin(2 * np.pi * 1000 * np.arange(rate) / rate)).astype(np.float32), rate


def test_spectrogram_has_db_values_and_axes_in_seconds_and_hertz(tone):
    samples, rate = tone
    spec = figures.spectrogram_db(samples, rate)
    params = figures.stft_params(rate)

    assert spec.shape == (params["n_fft"] // 2 + 1, len(samples) // params["hop_length"] + 1)
    peak_bin = int(np.median(spec.argmax(axis=0)))
    assert abs(peak_bin * rate / params["n_fft"] - 1000) <= rate / params["n_fft"]
    assert spec.max() - spec.min() <= figures.TOP_DB + 1e-3

    fig = figures.spectrogram_figure(samples, rate, title="tone: spectrogram")
    ax, colorbar = fig.axes
    assert ax.get_xlabel() == "time (s)"
    assert ax.get_ylabel() == "frequency (Hz)"
    assert ax.get_title() == "tone: spectrogram"
    assert colorbar.get_ylabel() == "power (dB)"
    assert ax.get_xlim() == pytest.approx((0, 1.0), abs=0.02)
    assert ax.get_ylim() == (0, rate / 2)


def test_mfcc_figure_labels_coefficients_against_time(tone):
    samples, rate = tone
    coeffs = figures.mfcc(samples, rate)
    assert coeffs.shape[0] == figures.N_MFCC
    assert np.isfinite(coeffs).all()

    fig = figures.mfcc_figure(samples, rate, title="tone: MFCC")
    ax, colorbar = fig.axes
    assert ax.get_xlabel() == "time (s)"
    assert "MFCC coefficient" in ax.get_ylabel()
    assert ax.get_title() == "tone: MFCC"


def test_long_waveforms_are_drawn_as_an_envelope_that_keeps_the_peaks():
    rate = 16000
    samples = np.zeros(rate * 60, dtype=np.float32)
    samples[123_457] = 0.9  # one click in a minute of silence
    fig = figures.waveform_figure(samples, rate, title="click")
    (ax,) = fig.axes
    assert ax.get_xlabel() == "time (s)" and ax.get_ylabel() == "amplitude (FS)"
    envelope = ax.collections[0].get_paths()[0].vertices
    assert len(envelope) < 3 * figures.MAX_WAVEFORM_POINTS
    assert envelope[:, 1].max() == pytest.approx(0.9)


def test_emissions_figure_labels_classes_and_shows_the_transcript():
    labels = ("-", "|", "A", "B")
    emission = np.log(np.full((10, 4), 0.1))
    emission[[2, 3, 6], 2] = 0.0
    fig = figures.emissions_figure(emission, labels, frame_s=0.02, transcript="A A",
                                   title="u1: emissions")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["<blank>", "|", "A", "B"]
    assert ax.get_xlabel() == "time (s)"
    assert '"A A"' in ax.get_title()
    assert fig.get_suptitle() == "u1: emissions"
    path = ax.collections[0].get_offsets()
    assert len(path) == 3  # the non-blank frames of the greedy path


def test_layer_choice_defaults_to_first_middle_and_last():
    assert w2v.parse_layers("6, 1,6") == (1, 6)
    assert w2v.parse_layers("all") == ()
    assert w2v.parse_layers(None) is None
    assert w2v.choose_layers(None, 12) == (1, 6, 12)
    assert w2v.choose_layers(None, 24) == (1, 12, 24)
    assert w2v.choose_layers((), 12) == tuple(range(1, 13))
    with pytest.raises(AsrlensError, match="12 transformer layers"):
        w2v.choose_layers((3, 14), 12)
    with pytest.raises(AsrlensError, match="expected 1-based"):
        w2v.parse_layers("0")


# --- wav2vec2 views (placeholder weights: shapes and files, never accuracy) -----------------


@pytest.fixture(scope="module")
def placeholder_model(placeholder_torch_home):
    """WAV2VEC2_ASR_BASE_960H with random weights, through bundle.get_model()'s hub cache."""
    return w2v.load_model(w2v.DEFAULT_MODEL, device="cpu")


def test_wav2vec2_view_has_one_feature_matrix_per_layer_and_a_label_per_class(
        placeholder_model, sample_dir):
    model, labels, rate = placeholder_model
    samples, _ = sf.read(sample_dir / "wavs" / f"{SHORTEST}.wav", dtype="float32")
    from asrlens.audio import resample

    samples = resample(samples, 22050, rate)[:rate]  # 1 s is enough for shapes

    view = w2v.wav2vec2_view(model, labels, samples, sample_rate=rate, layers=(1, 6, 12))

    frames = (len(samples) - 400) // 320 + 1  # conv front end: 25 ms receptive field, 20 ms hop
    assert view.layers == (1, 6, 12)
    assert [f.shape for f in view.features] == [(frames, 768)] * 3
    assert view.emission.shape == (frames, len(labels)) == (frames, 29)
    assert np.exp(view.emission).sum(axis=1) == pytest.approx(np.ones(frames), abs=1e-4)
    with torch.inference_mode():  # one pass gave both: the emission is the model's own output
        logits, _ = model(torch.from_numpy(samples)[None])
    expected = torch.log_softmax(logits[0], dim=-1).numpy()
    assert np.abs(view.emission - expected).max() < 1e-4
    assert view.frame_s == 0.02 and not view.truncated
    assert set(view.transcript) <= set(labels[1:]) | {" "}  # decoded from the model's labels
    assert not np.allclose(view.features[0], view.features[2])


@pytest.mark.parametrize("layer_norm_first", [False, True])  # BASE / LARGE-LV60K, HuBERT
@pytest.mark.parametrize("normalize_waveform", [False, True])
def test_one_pass_gives_the_same_emission_as_the_model_itself(layer_norm_first,
                                                              normalize_waveform):
    from torchaudio.models import wav2vec2_model
    from torchaudio.pipelines._wav2vec2.utils import _extend_model

    torch.manual_seed(0)
    model = wav2vec2_model(  # a tiny random model of the same structure
        extractor_mode="layer_norm" if layer_norm_first else "group_norm",
        extractor_conv_layer_config=[(16, 10, 5), (16, 3, 2)], extractor_conv_bias=False,
        encoder_embed_dim=32, encoder_projection_dropout=0.0, encoder_pos_conv_kernel=8,
        encoder_pos_conv_groups=4, encoder_num_layers=3, encoder_num_heads=2,
        encoder_attention_dropout=0.0, encoder_ff_interm_features=64,
        encoder_ff_interm_dropout=0.0, encoder_dropout=0.0,
        encoder_layer_norm_first=layer_norm_first, encoder_layer_drop=0.0, aux_num_out=5,
    ).eval()
    if normalize_waveform:
        model = _extend_model(model, normalize_waveform=True).eval()
    wave = torch.randn(1, 4000)

    with torch.inference_mode():
        features, logits = w2v._features_and_logits(model, wave)
        expected, _ = model(wave)

    assert len(features) == 3
    assert torch.allclose(logits, expected, atol=1e-5)


def test_explore_draws_features_and_emissions_from_the_hub_cache(placeholder_torch_home,
                                                                ingested_db, tmp_path):
    out = tmp_path / "out"
    result = run_explore(ingested_db, out, "--utt", SHORTEST, "--layers", "1,12")

    assert result.exit_code == 0, result.output
    for name in AUDIO_PLOTS + WAV2VEC2_PLOTS:
        assert_png(out / name)
    assert "WAV2VEC2_ASR_BASE_960H greedy transcript:" in result.output
    assert "skipped" not in result.output


def test_checkpoint_file_loads_without_the_hub_cache_or_network(placeholder_checkpoint,
                                                                placeholder_model, tmp_path,
                                                                monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-torch-home"))
    monkeypatch.setattr("torch.hub.download_url_to_file", _no_network)

    model, labels, rate = w2v.load_model(checkpoint=placeholder_checkpoint, device="cpu")

    cached_model, cached_labels, _ = placeholder_model
    assert (labels, rate) == (cached_labels, 16000)
    mine, theirs = model.state_dict(), cached_model.state_dict()
    assert mine.keys() == theirs.keys()
    assert all(torch.equal(mine[k], theirs[k]) for k in mine)
    assert mine["aux.weight"].shape == (29, 768)  # fairseq's 3 unused output rows dropped


def test_without_weights_the_audio_plots_are_written_and_one_line_says_why(ingested_db,
                                                                          tmp_path, monkeypatch):
    empty_home = tmp_path / "empty-torch-home"
    monkeypatch.setenv("TORCH_HOME", str(empty_home))
    monkeypatch.setattr("torch.hub.download_url_to_file", _no_network)
    out = tmp_path / "out"

    result = run_explore(ingested_db, out, "--utt", SHORTEST)

    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(AUDIO_PLOTS)
    skipped = [line for line in result.output.splitlines() if "skipped" in line]
    assert len(skipped) == 1, result.output
    line = skipped[0]
    assert line.startswith("wav2vec2 views skipped: no weights for WAV2VEC2_ASR_BASE_960H")
    assert "network disabled in this test" in line  # why
    assert "--checkpoint FILE" in line  # and how to supply them
    hub_file = empty_home / "hub" / "checkpoints" / "wav2vec2_fairseq_base_ls960_asr_ls960.pth"
    assert str(hub_file) in line


def test_a_checkpoint_that_is_not_the_model_is_an_error_naming_it(ingested_db, tmp_path):
    bad = tmp_path / "weights.pth"
    bad.write_bytes(b"not a torch file")

    result = run_explore(ingested_db, tmp_path / "out", "--utt", SHORTEST,
                         "--checkpoint", str(bad))

    assert result.exit_code == 1
    assert f"Error: checkpoint {bad} " in result.output
    assert "Traceback" not in result.output


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_asking_for_cuda_without_a_gpu_fails_before_any_work(ingested_db, tmp_path):
    out = tmp_path / "out"
    result = run_explore(ingested_db, out, "--device", "cuda")

    assert result.exit_code == 1
    assert "Error: --device cuda: torch sees no CUDA GPU here" in result.output
    assert not out.exists()


def _no_network(*args, **kwargs):
    raise OSError("network disabled in this test")


def _ingest(db_path: Path, folder: Path) -> None:
    from asrlens.ingest import ingest

    engine = connect(db_path)
    try:
        ingest(engine, folder, progress=False)
        assert query(engine, "select count(*) as n from utterances")[0]["n"] >= 1
    finally:
        engine.dispose()
