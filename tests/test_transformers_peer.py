"""`--engine transformers` against `--engine wav2vec2`, through the CLI, and on Ray.

The peer check: torchaudio's WAV2VEC2_ASR_BASE_960H and Hugging Face's
facebook/wav2vec2-base-960h are the same network. The placeholder BASE weights (random, in
a temporary torch hub cache) are converted by scripts/torchaudio_to_hf.py to a Wav2Vec2ForCTC
folder, and both engines must give identical transcripts on the 32 sample clips: the
transformers engine decodes exactly as the torchaudio one. The transcripts are noise
(random weights): they are compared, never scored for accuracy.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner
from conftest import REPO, SAMPLE_NAME, rows
from tiny_hf import save_ctc

from asrlens.audio import load_audio
from asrlens.cli import cli
from asrlens.infer.recognizers import get_recognizer

pytest.importorskip("transformers", reason="the transformers extra is not installed")
sys.path.insert(0, str(REPO / "scripts"))
from torchaudio_to_hf import convert, renamed  # noqa: E402 - after the path

RATE = 16000


@pytest.fixture(scope="module")
def converted(placeholder_torch_home, tmp_path_factory):
    """The placeholder BASE weights as a Hugging Face Wav2Vec2ForCTC folder."""
    return convert(tmp_path_factory.mktemp("converted") / "wav2vec2-base-960h")


def test_the_conversion_renames_every_parameter():
    with pytest.raises(KeyError, match="no Hugging Face name"):
        renamed({"mask_emb": None})
    assert renamed({"aux.weight": 1, "encoder.transformer.layers.0.x": 2}) == {
        "lm_head.weight": 1, "wav2vec2.encoder.layers.0.x": 2}


def test_converted_folder_records_the_bundles_input_normalisation(converted):
    processor = json.loads((converted / "processor_config.json").read_text())
    extractor = processor.get("feature_extractor", processor)
    assert extractor["do_normalize"] is False  # BASE 960H: no waveform normalisation
    vocab = json.loads((converted / "vocab.json").read_text())
    assert vocab["<pad>"] == 0 and vocab["|"] == 1 and len(vocab) == 30


@pytest.mark.slow
def test_both_engines_give_identical_transcripts_on_the_sample(converted, sample_dir):
    torchaudio_engine = get_recognizer("wav2vec2", device="cpu")
    hf_engine = get_recognizer("transformers", model=str(converted), device="cpu")
    assert hf_engine.options()["batching"] == "attention_mask+valid_length_group_norm"
    wavs = sorted((sample_dir / "wavs").glob("*.wav"))
    assert len(wavs) == 32
    for wav in wavs:
        samples, _ = load_audio(wav, sample_rate=RATE)
        ours, theirs = hf_engine.transcribe(samples), torchaudio_engine.transcribe(samples)
        assert ours.text == theirs.text, wav.name
        assert [(w.start_s, w.end_s) for w in ours.words] == [
            (w.start_s, w.end_s) for w in theirs.words], wav.name


def test_a_run_with_another_engine_never_imports_transformers(tmp_path, ingested_db,
                                                              copy_db):
    db = copy_db(ingested_db)
    code = (
        "import sys\n"
        "from asrlens.cli import cli\n"
        "try:\n"
        f"    cli(['infer', '--engine', 'pocketsphinx', '--limit', '1', '--no-progress',\n"
        f"         '--no-analyze', '--db', {str(db)!r}], standalone_mode=False)\n"
        "finally:\n"
        "    print('transformers' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=600, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    return save_ctc(tmp_path_factory.mktemp("cli") / "tiny-w2v", "wav2vec2", norm="group")


def test_cli_infer_stores_words_with_times_and_records_the_model(tiny_folder, ingested_db,
                                                                 copy_db):
    db = copy_db(ingested_db)
    result = CliRunner().invoke(cli, [
        "infer", "--engine", "transformers", "--model", str(tiny_folder), "--limit", "3",
        "--device", "cpu", "--batch-seconds", "30", "--run", "hf", "--no-progress",
        "--no-analyze", "--db", str(db)])
    assert result.exit_code == 0, result.output
    run = rows(db, "select * from runs where run_id = 'hf'")[0]
    assert run["engine"] == "transformers" and run["model"] == str(tiny_folder)
    assert run["dataset"] == SAMPLE_NAME and run["status"] == "finished"
    options = run["options"] if isinstance(run["options"], dict) else json.loads(run["options"])
    assert options["batching"] == "attention_mask+valid_length_group_norm"
    assert options["batch_audio_s"] == 30.0
    assert run["checkpoint_sha256"] == options["weights_sha256"]["model.safetensors"]
    words = rows(db, "select * from hyp_words where run_id = 'hf' order by utt_id, word_index")
    assert words and all(w["start_s"] < w["end_s"] for w in words)
    assert all(0 < w["confidence"] <= 1 for w in words)


def test_cli_beam_size_with_a_ctc_engine_is_a_clear_error(ingested_db, copy_db):
    result = CliRunner().invoke(cli, [
        "infer", "--engine", "wav2vec2", "--beam-size", "4", "--limit", "1", "--device", "cpu",
        "--no-progress", "--db", str(copy_db(ingested_db))])
    assert result.exit_code != 0
    assert "does not take option(s) beam_size" in result.output


@pytest.mark.slow
def test_a_ray_run_gives_the_transcripts_of_a_single_process_run(tiny_folder, ingested_db,
                                                                 copy_db):
    """Last and brief: Ray is heavy on a small machine (2 clips, a 2-CPU local cluster)."""
    ray = pytest.importorskip("ray", reason="the ray extra is not installed")
    from asrlens.db import connect
    from asrlens.infer import infer
    from asrlens.infer.ray_run import RayExecutor

    db = copy_db(ingested_db)
    ray.init(num_cpus=2, include_dashboard=False)  # the reader and the actor each take a CPU
    engine = connect(db)
    try:
        for run_id, executor in (("single", None), ("ray", RayExecutor("local"))):
            infer(engine, engine_name="transformers", model=str(tiny_folder), device="cpu",
                  limit=2, run_id=run_id, executor=executor, progress=False)
    finally:
        engine.dispose()
        ray.shutdown()
    sql = "select utt_id, hyp_raw from transcripts where run_id = :run order by utt_id"
    single = rows(db, sql, run="single")
    assert len(single) == 2 and all(r["hyp_raw"] for r in single)
    assert rows(db, sql, run="ray") == single
