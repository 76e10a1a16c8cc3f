"""The `asrlens` command line: a thin click layer over plain functions.

Each command parses its options, calls the function that does the work, and prints a short
summary. Expected failures (AsrlensError) become one `Error: ...` line and exit status 1.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from asrlens import __version__
from asrlens.db import DEFAULT_DB, ENV_DB
from asrlens.errors import AsrlensError


class AsrlensGroup(click.Group):
    """A click group that turns AsrlensError into `Error: ...` without a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except AsrlensError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)


def db_option(fn):
    """--db PATH, shared by every command (env ASRLENS_DB, default ./asrlens.duckdb)."""

    @click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar=ENV_DB,
        default=DEFAULT_DB,
        show_default=True,
        help=f"DuckDB file to use (env {ENV_DB}).",
    )
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)

    return wrapper


@click.group(cls=AsrlensGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="asrlens")
def cli():
    """How well does a speech recognizer do on your dataset, and why does it fail?

    \b
    A typical session:
      asrlens ingest speechdata.zip          # labels + audio facts -> asrlens.duckdb
      asrlens explore --seed 0               # look at one file
      asrlens infer --engine pocketsphinx    # transcribe and score every file
      asrlens report --out report/           # a shareable HTML report
      asrlens sql "select * from run_summary"

    Every command takes --db PATH (default ./asrlens.duckdb, env ASRLENS_DB).
    """


# --- ingest (asrlens/ingest) ---------------------------------------------------------------


# --- explore (asrlens/explore.py) ----------------------------------------------------------


@cli.command("explore")
@click.option("--dataset", help="Pick from this ingested dataset only (default: all of them).")
@click.option("--seed", type=int, help="Seed of the random choice; the same seed picks the "
              "same file again. Without --seed or --utt one is drawn and printed.")
@click.option("--utt", "utt_id", metavar="ID", help="Look at this utterance, e.g. LJ001-0001.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default="explore", show_default=True, help="Folder for the PNG figures.")
@click.option("--wav2vec2/--no-wav2vec2", default=True, show_default=True,
              help="Also draw the wav2vec2 features and emissions (needs the model weights).")
@click.option("--model", default="WAV2VEC2_ASR_BASE_960H", show_default=True,
              help="torchaudio bundle for the wav2vec2 views: WAV2VEC2_ASR_BASE_960H, "
                   "WAV2VEC2_ASR_LARGE_960H, WAV2VEC2_ASR_LARGE_LV60K_960H, HUBERT_ASR_LARGE "
                   "or HUBERT_ASR_XLARGE.")
@click.option("--checkpoint", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Weights file for --model (offline machines); default: the torch hub cache.")
@click.option("--layers", metavar="LIST",
              help="Transformer layers to draw, 1-based: '1,6,12' or 'all' "
                   "[default: first, middle and last].")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto",
              show_default=True, help="Where the model runs; auto takes a GPU when there is one.")
@db_option
def explore_command(dataset, seed, utt_id, out_dir, wav2vec2, model, checkpoint, layers, device,
                    db_path):
    """Look at one ingested file: its shape, waveform, spectrogram, MFCC, wav2vec2 view.

    Picks a file with readable audio at random (or --utt ID), prints its shape
    (channels, frames), sample rate and duration, and writes to --out: waveform.png,
    spectrogram.png (dB; seconds and Hz), mfcc.png and, with the model's weights,
    features.png (transformer layers) and emissions.png (class per frame, greedy path).
    Multi-channel files: one waveform panel per channel; the other views use the mix.

    \b
    Examples:
      asrlens explore                        # a random file; prints the seed it used
      asrlens explore --seed 7 --out look/   # the same file again with the same seed
      asrlens explore --utt LJ001-0001 --layers all
      asrlens explore --checkpoint wav2vec2_fairseq_base_ls960_asr_ls960.pth
      asrlens explore --no-wav2vec2          # audio plots only, no model
    """
    from asrlens.db import connect
    from asrlens.explore import explore
    from asrlens.explore.wav2vec2_view import parse_layers

    engine = connect(db_path, read_only=True)
    try:
        result = explore(
            engine, out_dir=out_dir, dataset=dataset, seed=seed, utt_id=utt_id,
            wav2vec2=wav2vec2, model=model, checkpoint=checkpoint,
            layers=parse_layers(layers), device=None if device == "auto" else device,
            on_step=click.echo,
        )
    finally:
        engine.dispose()
    for path in result.files:
        click.echo(f"wrote {path}")
    if result.wav2vec2_transcript is not None:
        click.echo(f"{result.model} greedy transcript: {result.wav2vec2_transcript}")
    if result.skipped:
        click.echo(f"wav2vec2 views skipped: {result.skipped}")


# --- sql -----------------------------------------------------------------------------------


# --- infer / export (asrlens/infer) --------------------------------------------------------


# --- analyze (asrlens/analysis) ------------------------------------------------------------


@cli.command()
@click.option("--run", "run_id", metavar="NAME",
              help="Run to analyse (default: the most recently started run).")
@db_option
def analyze(run_id, db_path):
    """Explain a run's errors: features, error tags, feature vs WER, a written summary.

    \b
    Fills utterance_features, reference_words, op_tags, feature_effects,
    feature_correlations and analysis_summary (re-running replaces the run's rows),
    then prints the summary. `asrlens report` shows it under "Why it fails".

    \b
    Examples:
      asrlens analyze                      # the latest run
      asrlens analyze --run sphinx
      asrlens sql "select tag, count(*) from op_tags where run_id = 'sphinx' group by tag"
    """
    from asrlens.analysis import analyze as run_analysis
    from asrlens.analysis import latest_run
    from asrlens.db import connect

    engine = connect(db_path)
    try:
        if run_id is None:
            with engine.connect() as conn:
                run_id = latest_run(conn)
        result = run_analysis(engine, run_id=run_id)
    finally:
        engine.dispose()
    tags = ", ".join(f"{tag} {n}" for tag, n in result.tag_counts.items()) or "none"
    click.echo(f"Analysed run {result.run_id} (dataset {result.dataset}): "
               f"{result.utterances} labels, {result.files_scored} scored files, "
               f"{result.errors} errors; tags: {tags}.")
    click.echo("")
    for sentence in result.summary:
        click.echo(sentence)


# --- report / run (asrlens/report) ---------------------------------------------------------
