"""The `asrlens` command line: a thin click layer over plain functions.

Each command parses its options, calls the function that does the work, and prints a short
summary. Expected failures (AsrlensError) become one `Error: ...` line and exit status 1.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from asrlens import DEFAULT_DB, ENV_DB, __version__
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
      asrlens analyze                        # tag errors, relate WER to file features
      asrlens report --out report/           # a shareable HTML report
      asrlens sql "select * from run_summary"

    \b
    Or all of ingest, infer, analyze and report in one go:
      asrlens run speechdata.zip --engine pocketsphinx

    Every command takes --db PATH (default ./asrlens.duckdb, env ASRLENS_DB).
    """


# --- ingest (asrlens/ingest) ---------------------------------------------------------------


@cli.command("ingest")
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option("--name", help="Dataset name in the database [default: folder name or zip stem].")
@click.option("--labels", "labels", metavar="FILE",
              help="Labels file: a path, or a name inside the dataset [default: the first of "
                   "labels.csv, metadata.csv, labels.tsv, metadata.tsv, labels.txt at its root].")
@click.option("--workers", type=click.IntRange(min=1), metavar="N",
              help="Processes reading audio [default: all cores].")
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="Show a progress bar while reading audio.")
@db_option
def ingest_command(dataset, name, labels, workers, progress, db_path):
    """Load DATASET (a folder or a .zip of one) into the database.

    \b
    DATASET holds wavs/ and a labels file: LJSpeech `id|transcript|normalized`
    (no header, quotes are text) or a CSV/TSV whose header names an id or path
    column (id, utt_id, path, file, wav_filename, ...) and a text column
    (transcript, text, sentence, ...). Each label's audio is wavs/<id>.wav
    (or .flac/.ogg/.mp3). Every audio file is read once, in parallel: format,
    rate, channels, duration, sha256, peak/RMS level, clipping and silence.
    A .zip is extracted next to the database, in .asrlens/datasets/<name>/.

    \b
    Running it again is cheap and safe: unchanged files are not re-read,
    changed ones are updated, nothing is duplicated. Problems (labels without
    audio, bad lines, corrupt audio, ...) are kept in the ingest_issues table;
    the command fails only when nothing usable is found.

    \b
    Examples:
      asrlens ingest ../shared/data/ljspeech-sample
      asrlens ingest speechdata.zip --db speech.duckdb
      asrlens ingest corpus/ --labels corpus/train.tsv --name corpus-train
      asrlens sql "select kind, count(*) from ingest_issues group by kind"
    """
    from asrlens.db import connect
    from asrlens.ingest import ingest

    engine = connect(db_path)
    try:
        summary = ingest(engine, dataset, name=name, labels=labels, workers=workers,
                         progress=progress)
    finally:
        engine.dispose()
    for line in _ingest_summary_lines(summary, db_path):
        click.echo(line)


def _ingest_summary_lines(summary, db_path: Path) -> list[str]:
    """The end-of-ingest summary: utterances, with audio, hours, issues by kind."""
    issues = ", ".join(f"{kind} {n}" for kind, n in summary.issues_by_kind.items()) or "none"
    lines = [
        f"Dataset {summary.dataset} (root {summary.root})",
        f"  utterances: {summary.utterances} ({summary.with_audio} with audio, "
        f"{summary.labels_without_audio} without)",
        f"  audio files: {summary.audio_files} ({summary.audio_without_labels} without a label)",
        f"  hours: {summary.hours:.3f} labelled audio ({summary.audio_hours:.3f} in all files)",
        f"  issues: {issues}",
        f"  files read: {summary.files_read}, unchanged and skipped: {summary.files_skipped}, "
        f"new: {summary.files_new}, updated: {summary.files_updated}, "
        f"removed: {summary.files_removed} ({summary.seconds:.1f} s)",
    ]
    if summary.changed:
        lines.append(f"Stored in {db_path}. See: asrlens sql \"select kind, path, line, "
                     f"message from ingest_issues where dataset = '{summary.dataset}'\"")
    else:
        lines.append(f"{db_path} already held exactly this: nothing changed.")
    return lines


# --- explore (asrlens/explore) -------------------------------------------------------------


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
    if result.wav2vec2_transcript is not None:
        click.echo(f"{result.model} greedy transcript: {result.wav2vec2_transcript}")
    if result.skipped:
        click.echo(f"wav2vec2 views skipped: {result.skipped}")


# --- sql -----------------------------------------------------------------------------------


@cli.command("sql")
@click.argument("query_text", metavar="QUERY")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True, help="table: aligned text; csv: with a header row; "
                                      "json: a list of objects.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Value for a $NAME placeholder in QUERY (repeatable).")
@db_option
def sql_command(query_text, fmt, params, db_path):
    """Run QUERY (SQL; `-` reads it from stdin) on the database, read-only.

    Nothing can be changed by mistake: DROP, DELETE, INSERT, ... fail with a
    message. Tables are described in the README (Schema); list them with
    "show tables", describe one with "describe utterances".

    \b
    Examples:
      asrlens sql "select kind, count(*) n from ingest_issues group by kind"
      asrlens sql "select * from run_summary" --format json
      asrlens sql 'select utt_id, wer from utterance_errors where run_id = $run
                   order by wer desc limit 10' --param run=sphinx
      asrlens sql - --format csv < query.sql > result.csv
    """
    from asrlens.sql import format_result, parse_params, run_query

    text = sys.stdin.read() if query_text == "-" else query_text
    result = run_query(db_path, text, params=parse_params(params))
    click.echo(format_result(result, fmt))


# --- infer / export (asrlens/infer) --------------------------------------------------------


def _normalizer_names() -> list[str]:
    from asrlens.infer.normalize import NORMALIZERS

    return list(NORMALIZERS)


@cli.command("infer")
@click.option("--dataset", help="Dataset to transcribe [default: the only one in the database].")
@click.option("--engine", "engine_name", metavar="NAME",
              help="Recognizer: wav2vec2 or pocketsphinx [default: wav2vec2; a resumed run "
                   "keeps its own].")
@click.option("--model", metavar="NAME",
              help="Model of the engine, e.g. WAV2VEC2_ASR_LARGE_960H [default: the engine's].")
@click.option("--checkpoint", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
              help="Weights file to load instead of the torch hub cache (offline machines).")
@click.option("--device", default="auto", show_default=True, metavar="auto|cpu|cuda[:N]",
              help="Where the model runs; auto takes a GPU when there is one.")
@click.option("--precision", type=click.Choice(["fp32", "bf16", "fp16"]),
              help="Compute precision [default: fp32]. bf16 is faster on CPU; fp16 needs a GPU.")
@click.option("--limit", type=click.IntRange(min=1), metavar="N",
              help="Only the first N files with audio, by utterance id.")
@click.option("--run", "run_id", metavar="NAME",
              help="Run name [default: DATASET:ENGINE[:MODEL]]. An existing run is resumed.")
@click.option("--normalizer", type=click.Choice(_normalizer_names()),
              help="Text normalization before scoring [default: ljspeech].")
@click.option("--batch-files", type=click.IntRange(min=1), default=8, show_default=True,
              help="Commit results every N files (or every 10 s).")
@click.option("--chunk-s", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="wav2vec2: files longer than this go through the model in overlapping "
                   "chunks, so memory stays flat [default: 30].")
@click.option("--overlap-s", type=click.FloatRange(min=0), metavar="SECONDS",
              help="wav2vec2: overlap between chunks [default: 2].")
@click.option("--batch-seconds", "batch_audio_s", type=click.FloatRange(min=0),
              metavar="SECONDS",
              help="wav2vec2: recognize files sorted by length in zero-padded batches of at "
                   "most this many audio seconds, each file as if alone; 0: one file at a "
                   "time [default: 0 on CPU; on a GPU, sized from its free memory].")
@click.option("--read-workers", type=click.IntRange(min=0), metavar="N",
              help="Processes that decode and resample ahead of the recognizer [default: 0 "
                   "(a thread) on CPU, up to 8 on a GPU].")
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="Show a progress bar (files, audio hours, real-time factor).")
@click.option("--analyze/--no-analyze", "then_analyze", default=True, show_default=True,
              help="Then run `asrlens analyze` on the run (error tags, features, summary).")
@db_option
def infer_command(dataset, engine_name, model, checkpoint, device, precision, limit, run_id,
                  normalizer, batch_files, chunk_s, overlap_s, batch_audio_s, read_workers,
                  progress, then_analyze, db_path):
    """Transcribe every file of a dataset, score it against its labels, store it.

    \b
    Each file gets one row in `transcripts` (raw and normalized text of both
    sides), its error counts in `utterance_errors` (from jiwer), its word
    alignment in `alignment_ops` and its words with times in `hyp_words`.
    Corpus figures (WER = total errors / total reference words) are in the
    run_summary view. A file that cannot be read or recognized is recorded
    with its error and the run goes on.

    \b
    Results are committed every few files. After Ctrl-C or a crash, the same
    command (or `asrlens infer --run NAME`) resumes: only missing and failed
    files are transcribed; a finished run is not redone.

    \b
    Examples:
      asrlens infer --engine pocketsphinx              # offline, CPU
      asrlens infer --limit 20 --run w2v-try           # wav2vec2 BASE on 20 files
      asrlens infer --model WAV2VEC2_ASR_LARGE_960H --device cuda
      asrlens infer --checkpoint wav2vec2_fairseq_base_ls960_asr_ls960.pth
      asrlens infer --run w2v-try                      # resume it
      asrlens sql "select * from run_summary"

    Unless --no-analyze, the run is then analysed as by `asrlens analyze`.
    """
    from asrlens.db import connect
    from asrlens.infer import RunInterrupted, infer

    chunking = {key: value for key, value in (("chunk_s", chunk_s), ("overlap_s", overlap_s))
                if value is not None}
    engine = connect(db_path)
    try:
        result = infer(engine, dataset=dataset, engine_name=engine_name, model=model,
                       checkpoint=checkpoint, device=device, precision=precision, limit=limit,
                       run_id=run_id, normalizer=normalizer, progress=progress,
                       batch_files=batch_files, batch_audio_s=batch_audio_s,
                       read_workers=read_workers, **chunking)
        for line in _infer_summary_lines(result):
            click.echo(line)
        if then_analyze and result.files_scored:
            from asrlens.analysis import analyze as run_analysis

            analysis = run_analysis(engine, run_id=result.run_id)
            click.echo(f"analysed: {sum(analysis.tag_counts.values())} error tags; "
                       f"the summary: asrlens analyze --run {result.run_id}")
    except RunInterrupted as stop:
        for line in _infer_summary_lines(stop.result):
            click.echo(line)
        click.echo(f"Interrupted: whole files are saved. Resume with: "
                   f"{_resume_command(stop.result.run_id, db_path)}")
        sys.exit(130)
    finally:
        engine.dispose()


def _resume_command(run_id: str, db_path: Path) -> str:
    import shlex

    command = f"asrlens infer --run {shlex.quote(run_id)}"
    if str(db_path) != DEFAULT_DB:
        command += f" --db {shlex.quote(str(db_path))}"
    return command


def _infer_summary_lines(result, *, max_failed: int = 10) -> list[str]:
    """Run status, corpus rates, and the files that failed."""

    def pct(value):
        return "-" if value is None else f"{100 * value:.1f}%"

    if result.already_finished:
        head = f"run {result.run_id} is already finished: nothing redone"
    else:
        head = (f"run {result.run_id}: {result.status} ({result.files_done} files transcribed "
                f"now, {result.files_failed} failed, {result.files_skipped} done before)")
    rtf = "-" if result.real_time_factor is None else f"{result.real_time_factor:.3f}"
    lines = [
        head,
        f"  {result.files_scored} of {result.files_total} files scored, "
        f"{result.audio_s / 3600:.3f} h of audio in {result.wall_s:.1f} s (real-time factor "
        f"{rtf})",
        f"  WER {pct(result.wer)}  MER {pct(result.mer)}  WIL {pct(result.wil)}  "
        f"CER {pct(result.cer)}",
    ]
    if result.failed:
        lines.append(f"  {len(result.failed)} failed files (retried when the run is resumed):")
        lines += [f"    {utt_id}: {error}" for utt_id, error in result.failed[:max_failed]]
        if len(result.failed) > max_failed:
            lines.append(f"    ... see: asrlens sql \"select utt_id, error from transcripts "
                         f"where run_id = '{result.run_id}' and error is not null\"")
    return lines


@cli.command("export")
@click.option("--run", "run_id", required=True, metavar="NAME", help="The run to export.")
@click.option("--format", "fmt", type=click.Choice(["trn", "csv", "jsonl"]), default="csv",
              show_default=True, help="trn: sclite ref.trn + hyp.trn; csv / jsonl: per-file rows.")
@click.option("--out", type=click.Path(path_type=Path), metavar="PATH",
              help="trn: a folder [default: ./RUN-trn]; csv / jsonl: a file [default: stdout].")
@db_option
def export_command(run_id, fmt, out, db_path):
    """Write a run's per-file results for other tools.

    \b
    trn    NIST sclite format, `TEXT (utt_id)` per line: the normalized
           reference and hypothesis of every scored file, in ref.trn and
           hyp.trn inside the --out folder. Failed files are left out.
    csv    one row per file: texts (raw and normalized), audio_s, error,
    jsonl  word and character counts (hits, substitutions, deletions,
           insertions), wer, mer, wil, wip, cer.

    \b
    Examples:
      asrlens export --run sphinx --format trn --out sphinx-trn
      sctk sclite -r sphinx-trn/ref.trn trn -h sphinx-trn/hyp.trn trn -i rm -o rsum stdout
      asrlens export --run sphinx --format csv --out sphinx.csv
      asrlens export --run sphinx --format jsonl | head -3
    """
    from asrlens.db import connect
    from asrlens.infer.export import export_run

    engine = connect(db_path, read_only=True)
    try:
        result = export_run(engine, run_id=run_id, fmt=fmt, out=out,
                            stream=None if out else sys.stdout)
    finally:
        engine.dispose()
    if result.paths:
        files = ", ".join(str(p) for p in result.paths)
        click.echo(f"wrote {result.rows} files of run {run_id} to {files}", err=True)



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


AUDIO_CHOICES = ("embed", "link", "none")


def report_options(fn):
    """--out, --audio, --top, --seed: shared by `report` and `run`."""
    for option in reversed([
        click.option("--out", "out_dir", default="asrlens-report", show_default=True,
                     type=click.Path(file_okay=False, path_type=Path),
                     help="Folder to write index.html to (created if missing)."),
        click.option("--audio", type=click.Choice(AUDIO_CHOICES), default="embed",
                     show_default=True,
                     help="Worst files' audio: embed (short Ogg/Vorbis clips inside the page), "
                          "link (file:// links to the dataset) or none."),
        click.option("--top", "top_n", type=click.IntRange(min=1), default=20, show_default=True,
                     help="How many worst files to list."),
        click.option("--seed", type=int, default=0, show_default=True,
                     help="Seeds the sampled file and the bootstrap intervals."),
    ]):
        fn = option(fn)
    return fn


@cli.command("report")
@click.option("--run", "run_ids", multiple=True, metavar="NAME",
              help="Run to report; repeat to compare runs (the first is the primary) "
                   "[default: the most recent finished run].")
@click.option("--dataset", metavar="NAME",
              help="Dataset to report on when no run is given [default: the run's, or the "
                   "most recently ingested].")
@report_options
@db_option
def report_command(run_ids, dataset, out_dir, audio, top_n, seed, db_path):
    """Write a shareable HTML report: OUT/index.html, one self-contained file.

    \b
    Sections: the dataset (sizes, formats, levels, ingest issues), one file
    explored, the run (engine, corpus WER/MER/WIL/CER with 95% bootstrap
    intervals, speed), then per-file WER distribution, worst files with aligned
    transcripts, error patterns, why it fails and, with several --run, a
    comparison. CSS, plots and audio are inside the file: no network is needed
    to open it, so it can be mailed or attached to a ticket. With no run in the
    database yet, the report covers the dataset only.

    \b
    Examples:
      asrlens report                                   # latest finished run
      asrlens report --run sphinx --out report/ --audio link
      asrlens report --run w2v --run sphinx            # compare two runs
      asrlens report --audio none --top 50
    """
    from asrlens.db import connect
    from asrlens.report import render_report

    engine = connect(db_path, read_only=True)
    try:
        path = render_report(engine, run_ids=run_ids, dataset=dataset, out_dir=out_dir,
                             audio=audio, top_n=top_n, seed=seed)
    finally:
        engine.dispose()
    click.echo(path)


@cli.command("run")
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option("--engine", "engine_name", metavar="NAME",
              help="Recognizer: wav2vec2 (torchaudio; needs its weights) or pocketsphinx "
                   "(offline, bundled English model) [default: wav2vec2; a resumed run keeps "
                   "its own].")
@click.option("--model", help="Model of the engine [default: the engine's default].")
@click.option("--checkpoint", type=click.Path(dir_okay=False, exists=True),
              help="wav2vec2 weights file to use instead of the torch hub cache.")
@click.option("--device", default="auto", show_default=True,
              help="auto (a GPU when there is one), cpu, cuda or cuda:N.")
@click.option("--precision", type=click.Choice(["fp32", "bf16", "fp16"]),
              help="Numeric precision of the model (fp16 needs a GPU) [default: fp32; a resumed "
                   "run keeps its own].")
@click.option("--limit", type=click.IntRange(min=1), metavar="N",
              help="Transcribe only the first N files (a quick look).")
@click.option("--run", "run_id", metavar="NAME",
              help="Name of the run [default: derived from dataset, engine and model]; "
                   "an interrupted run of that name is resumed.")
@click.option("--name", metavar="NAME", help="Dataset name [default: folder name or zip stem].")
@report_options
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="Show progress bars.")
@db_option
def run_command(dataset, engine_name, model, checkpoint, device, precision, limit, run_id,
                name, out_dir, audio, top_n, seed, progress, db_path):
    """Ingest DATASET, transcribe and score it, analyse the errors, write the report.

    \b
    The same as `asrlens ingest`, `infer`, `analyze` and `report` in a row, on
    one database; prints the report's path. The default engine is wav2vec2: if
    its weights are not in the torch hub cache and cannot be downloaded, it
    stops and says how to supply them (it never switches engine on its own).
    pocketsphinx needs no download.

    \b
    Examples:
      asrlens run ../shared/data/ljspeech-sample --engine pocketsphinx
      asrlens run speechdata.zip                         # wav2vec2, GPU if present
      asrlens run speechdata.zip --checkpoint w2v.pth --out report/
      asrlens run corpus/ --engine pocketsphinx --limit 20 --audio none
    """
    from asrlens.db import connect
    from asrlens.pipeline import run_pipeline

    engine = connect(db_path)
    try:
        result = run_pipeline(
            engine, dataset, engine_name=engine_name, model=model, checkpoint=checkpoint,
            device=device, precision=precision, limit=limit, run_id=run_id, name=name,
            out_dir=out_dir, audio=audio, top_n=top_n, seed=seed, progress=progress,
            on_step=lambda line: click.echo(line, err=True),
        )
    finally:
        engine.dispose()
    click.echo(result.report_path)
