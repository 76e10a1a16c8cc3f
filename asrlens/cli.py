"""The `asrlens` command line: a thin click layer over plain functions.

Each command parses its options, calls the function that does the work, and prints a short
summary. Expected failures (AsrlensError) become one `Error: ...` line and exit status 1.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import shlex
import sys
from collections import Counter
from pathlib import Path

import click

from asrlens import DEFAULT_DB, ENV_DB, __version__
from asrlens.errors import AsrlensError, CheckpointFailed


class AsrlensGroup(click.Group):
    """A click group that turns AsrlensError into `Error: ...` without a traceback."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["asrlens.args"] = list(args)  # to say how to run the same command again
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context):
        from asrlens.interrupt import exit_status, signal_name, stop_signals

        try:
            with stop_signals():  # SIGTERM is handled as Ctrl-C
                result = super().invoke(ctx)
                sys.stdout.flush()  # a closed pipe shows here, not in Python's exit
                return result
        except AsrlensError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)
        except CheckpointFailed as exc:
            click.echo(f"Warning: {exc}", err=True)
            sys.exit(1)
        except BrokenPipeError:
            _end_quietly_on_closed_pipe()
        except KeyboardInterrupt:  # commands with more to say catch it themselves
            click.echo(f"Interrupted ({signal_name()}): what was committed before is kept. "
                       f"Run it again with: {_same_command()}", err=True)
            sys.exit(exit_status())


def _end_quietly_on_closed_pipe():
    """stdout's reader has gone (`asrlens export ... | head -3`): it had what it wanted, so
    end with status 0 and no traceback; stdout now points to /dev/null so that Python's
    final flush has nowhere to fail."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (e.g. under click's CliRunner)
        pass
    sys.exit(0)


def _same_command() -> str:
    """The command line of this invocation, to run again."""
    ctx = click.get_current_context(silent=True)
    args = ctx.meta.get("asrlens.args", sys.argv[1:]) if ctx else sys.argv[1:]
    return shlex.join(["asrlens", *args])


def _database_errors(fn):
    """Database and disk-full errors from a command become one `Error:` line naming the file."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import duckdb
        import sqlalchemy as sa

        from asrlens.db import describe_error, resolve_path

        try:
            return fn(*args, **kwargs)
        except (sa.exc.SQLAlchemyError, duckdb.Error) as exc:
            raise AsrlensError(describe_error(resolve_path(kwargs.get("db_path")), exc)) from exc
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise
            raise AsrlensError(f"{exc.filename or 'a file'}: no space left on the disk "
                               f"({exc.strerror}); free some space and run the command "
                               f"again") from exc

    return wrapper


@contextlib.contextmanager
def open_database(db_path: Path, *, read_only: bool = False):
    """The command's database engine, closed at the end; a read-write one is checkpointed.

    When a .wal is left beside the file afterwards (the checkpoint failed), a warning says
    so and the command exits with status 1 instead of finishing as if all were stored.
    """
    from asrlens.db import close, connect

    engine = connect(db_path, read_only=read_only)
    try:
        yield engine
    except BaseException:
        warning = close(engine)
        if warning:
            click.echo(f"Warning: {warning}", err=True)
        raise
    warning = close(engine)
    if warning:
        click.echo(f"Warning: {warning}", err=True)
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
    @_database_errors
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
      asrlens doctor                         # the database's health, what to do

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
@click.option("--zip-max-size", metavar="SIZE", default="20G", show_default=True,
              help="A .zip may unpack to at most this much in all (bytes, or 500M, 20G, 1T).")
@click.option("--zip-max-ratio", type=click.FloatRange(min=1), default=200, show_default=True,
              help="A .zip entry over 1 MiB may expand at most this many times.")
@click.option("--zip-max-entries", type=click.IntRange(min=1), default=500_000,
              show_default=True, help="A .zip may hold at most this many entries.")
@db_option
def ingest_command(dataset, name, labels, workers, progress, zip_max_size, zip_max_ratio,
                   zip_max_entries, db_path):
    """Load DATASET (a folder or a .zip of one) into the database.

    \b
    DATASET holds wavs/ and a labels file: LJSpeech `id|transcript|normalized`
    (no header, quotes are text) or a CSV/TSV whose header names an id or path
    column (id, utt_id, path, file, wav_filename, ...) and a text column
    (transcript, text, sentence, ...). Each label's audio is wavs/<id>.wav
    (or .flac/.ogg/.mp3). Every audio file is read once, in parallel: format,
    rate, channels, duration, sha256, peak/RMS level, clipping and silence.
    A .zip is extracted next to the database, in .asrlens/datasets/<name>/,
    after its declared sizes are checked against the --zip-max-* limits and the
    free disk space (a zip bomb is refused before anything is written).

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
    from asrlens.ingest import ingest_into
    from asrlens.ingest.source import ZipLimits, parse_size

    limits = ZipLimits(max_bytes=parse_size(zip_max_size), max_ratio=zip_max_ratio,
                       max_entries=zip_max_entries)
    summary = ingest_into(db_path, dataset, name=name, labels=labels, workers=workers,
                          progress=progress, zip_limits=limits)
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
    from asrlens.explore import explore
    from asrlens.explore.wav2vec2_view import parse_layers

    with open_database(db_path, read_only=True) as engine:
        result = explore(
            engine, out_dir=out_dir, dataset=dataset, seed=seed, utt_id=utt_id,
            wav2vec2=wav2vec2, model=model, checkpoint=checkpoint,
            layers=parse_layers(layers), device=None if device == "auto" else device,
            on_step=click.echo,
        )
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
@click.option("--write", is_flag=True,
              help="Open the database read-write with all of DuckDB: writes, COPY, ATTACH, "
                   "files, settings. Without it the query cannot change anything.")
@db_option
def sql_command(query_text, fmt, params, write, db_path):
    """Run QUERY (SQL; `-` reads it from stdin) on the database, read-only.

    Nothing can be changed by mistake: DROP, DELETE, INSERT, ... fail with a
    message, and the query sees nothing outside the database file (COPY,
    ATTACH, INSTALL, LOAD, SET and file readers such as read_csv are refused).
    --write lifts all of this. Tables are described in the README (Schema);
    list them with "show tables", describe one with "describe utterances".

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
    result = run_query(db_path, text, params=parse_params(params), write=write)
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
@click.option("--alignment", type=click.Choice(["unit", "sclite"]),
              help="Word alignment: unit (every edit costs 1) or sclite (substitution 4, "
                   "insertion and deletion 3, as NIST sclite) [default: unit; a resumed run "
                   "keeps its own].")
@click.option("--batch-files", type=click.IntRange(min=1), default=8, show_default=True,
              help="Commit results every N files (or every 10 s).")
@click.option("--chunk-s", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="wav2vec2: files longer than this go through the model in overlapping "
                   "chunks, so memory stays flat; pocketsphinx: in blocks cut at pauses "
                   "[default: 30].")
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
@click.option("--ray", "ray_address", is_flag=False, flag_value="local", metavar="[ADDRESS]",
              help="Recognize on a Ray cluster (pip install 'asrlens[ray]'): ADDRESS of a "
                   "running one (HOST:6379, ray://HOST:10001), none for a local one on this "
                   "machine. This machine reads nothing and writes the database.")
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="Show a progress bar (files, audio hours, real-time factor).")
@click.option("--analyze/--no-analyze", "then_analyze", default=True, show_default=True,
              help="Then run `asrlens analyze` on the run (error tags, features, summary).")
@db_option
def infer_command(dataset, engine_name, model, checkpoint, device, precision, limit, run_id,
                  normalizer, alignment, batch_files, chunk_s, overlap_s, batch_audio_s,
                  read_workers, ray_address, progress, then_analyze, db_path):
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
      asrlens infer --ray head-node:6379               # on a Ray cluster
      asrlens sql "select * from run_summary"

    Unless --no-analyze, the run is then analysed as by `asrlens analyze`.
    """
    from asrlens.infer import NothingScored, RunInterrupted, infer
    from asrlens.interrupt import exit_status, signal_name

    chunking = {key: value for key, value in (("chunk_s", chunk_s), ("overlap_s", overlap_s))
                if value is not None}
    executor = None
    if ray_address is not None:
        from asrlens.infer.ray_run import RayExecutor

        executor = RayExecutor(ray_address)
    result = None
    with open_database(db_path) as engine:
        try:
            result = infer(engine, dataset=dataset, engine_name=engine_name, model=model,
                           checkpoint=checkpoint, device=device, precision=precision,
                           limit=limit, run_id=run_id, normalizer=normalizer,
                           alignment=alignment, progress=progress, batch_files=batch_files,
                           batch_audio_s=batch_audio_s, read_workers=read_workers,
                           executor=executor, **chunking)
            for line in _infer_summary_lines(result):
                click.echo(line)
            if then_analyze and result.files_scored:
                _analyze_after(engine, result.run_id)
        except NothingScored as failed:
            for line in _infer_summary_lines(failed.result):
                click.echo(line)
            raise
        except RunInterrupted as stop:
            for line in _infer_summary_lines(stop.result):
                click.echo(line)
            click.echo(f"Interrupted ({signal_name()}): whole files are saved. Resume with: "
                       f"{_resume_command(stop.result.run_id, db_path)}")
            sys.exit(exit_status())
        except KeyboardInterrupt:  # before the first file, or during the analysis
            if result is None:
                click.echo(f"Interrupted ({signal_name()}) before any file was transcribed: "
                           f"nothing is lost. Resume with: {_same_command()}")
            else:
                click.echo(f"Interrupted ({signal_name()}) during the analysis: the run is "
                           f"stored whole. Analyse it with: asrlens analyze --run "
                           f"{shlex.quote(result.run_id)}"
                           + (f" --db {shlex.quote(str(db_path))}"
                              if str(db_path) != DEFAULT_DB else ""))
            sys.exit(exit_status())


def _analyze_after(engine, run_id: str) -> None:
    """`--analyze` of infer and import-run: analyse the run just stored, say so in one line."""
    from asrlens.analysis import analyze as run_analysis

    analysis = run_analysis(engine, run_id=run_id)
    click.echo(f"analysed: {sum(analysis.tag_counts.values())} error tags; "
               f"the summary: asrlens analyze --run {run_id}")


def _resume_command(run_id: str, db_path: Path) -> str:
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
        f"  strict WER {pct(result.strict_wer)} (failed files' words as deletions)  "
        f"raw WER {pct(result.raw_wer)} (case and punctuation only)",
    ]
    if result.files_rescored:
        lines.append(f"  rescored {result.files_rescored} files whose reference changed since "
                     "they were transcribed (stored hypotheses, no new recognition)")
    if result.files_unusable:
        lines.append(f"  {result.files_unusable} files not transcribed: ingest found their "
                     "audio corrupt or empty (see asrlens sql \"select * from ingest_issues\")")
    if result.failed:
        retried = ("retried when the run is resumed" if not result.files_unusable else
                   "retried when the run is resumed, unless ingest found the audio unusable")
        lines.append(f"  {len(result.failed)} failed files ({retried}):")
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
           reference and hypothesis of every file, in ref.trn and hyp.trn
           inside the --out folder. A failed file has an empty hypothesis,
           so sclite counts the words of run_summary's strict_wer.
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
    from asrlens.infer.export import export_run

    with open_database(db_path, read_only=True) as engine:
        result = export_run(engine, run_id=run_id, fmt=fmt, out=out,
                            stream=None if out else sys.stdout)
    if result.paths:
        files = ", ".join(str(p) for p in result.paths)
        click.echo(f"wrote {result.rows} files of run {run_id} to {files}", err=True)



@cli.command("import-run")
@click.argument("hyp_file", metavar="HYPFILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dataset", help="Ingested dataset the hypotheses are for [default: the only one].")
@click.option("--run", "run_id", metavar="NAME", help="Run name [default: HYPFILE's stem].")
@click.option("--format", "fmt", default="auto", show_default=True,
              type=click.Choice(["auto", "trn", "csv", "tsv", "jsonl", "nemo"]),
              help="trn: `TEXT (ID)`; csv/tsv: ID,HYPOTHESIS (a header such as "
                   "utt_id,hypothesis is optional); jsonl: objects with an id and a text field; "
                   "nemo: manifest lines with audio_filepath and pred_text.")
@click.option("--model", metavar="LABEL",
              help="What made the hypotheses, e.g. whisper-large-v3 [default: the file name].")
@click.option("--normalizer", type=click.Choice(_normalizer_names()),
              help="Text normalization before scoring [default: ljspeech].")
@click.option("--alignment", type=click.Choice(["unit", "sclite"]), default="unit",
              show_default=True, help="Word alignment costs, as for `asrlens infer`.")
@click.option("--replace", is_flag=True,
              help="Replace an imported run of the same name (its analysis too).")
@click.option("--analyze/--no-analyze", "then_analyze", default=True, show_default=True,
              help="Then run `asrlens analyze` on the run.")
@db_option
def import_run_command(hyp_file, dataset, run_id, fmt, model, normalizer, alignment, replace,
                       then_analyze, db_path):
    """Import another recognizer's hypotheses as a run (Whisper, a cloud API, NeMo, ...).

    
    Each line names an utterance by its id or its audio path (relative to the
    dataset, absolute, or just the file name when that is unique) and gives
    its hypothesis. The run is scored, analysed, reported and exported like
    one made by `asrlens infer`; `runs` records source_path and
    source_format. Lines that name no utterance, repeat one or cannot be
    parsed are listed (table import_issues); an utterance with audio but no
    hypothesis is a failed file, counted by run_summary's strict_wer.

    
    Examples:
      asrlens import-run whisper.csv --run whisper --model whisper-large-v3
      asrlens import-run hyp.trn --format trn --run sphinx-again
      asrlens import-run manifest_with_preds.json --format nemo --run conformer
      asrlens report --run whisper --run sphinx
    """
    from asrlens.infer.import_run import import_run

    with open_database(db_path) as engine:
        result = import_run(engine, hyp_file, dataset=dataset, run_id=run_id, fmt=fmt,
                            normalizer=normalizer, alignment=alignment, model=model,
                            replace=replace)
        for line in _import_summary_lines(result):
            click.echo(line)
        if then_analyze and result.files_scored:
            _analyze_after(engine, result.run_id)


def _import_summary_lines(result, *, max_issues: int = 10) -> list[str]:
    """What was matched, the corpus rates, and the lines or files that could not be used."""

    def pct(value):
        return "-" if value is None else f"{100 * value:.1f}%"

    matched = ", ".join(f"{n} by {how}" for how, n in result.matched_by.items())
    lines = [
        f"run {result.run_id}: imported {result.lines} {result.fmt} lines from {result.path} "
        f"({matched})",
        f"  {result.files_scored} of {result.files_total} files of {result.dataset} scored, "
        f"{result.files_without_hypothesis} without a hypothesis",
        f"  WER {pct(result.wer)} over scored files, strict WER {pct(result.strict_wer)}, "
        f"raw WER {pct(result.raw_wer)}",
    ]
    if result.issues:
        kinds = ", ".join(f"{kind} {n}" for kind, n in
                          sorted(Counter(i.kind for i in result.issues).items()))
        lines.append(f"  {len(result.issues)} issues ({kinds}):")
        for issue in result.issues[:max_issues]:
            where = f"line {issue.line}" if issue.line else issue.key
            lines.append(f"    {issue.kind} {where}: {issue.message}")
        if len(result.issues) > max_issues:
            lines.append(f"    ... see: asrlens sql \"select * from import_issues where "
                         f"run_id = '{result.run_id}'\"")
    return lines


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

    with open_database(db_path) as engine:
        if run_id is None:
            with engine.connect() as conn:
                run_id = latest_run(conn)
        result = run_analysis(engine, run_id=run_id)
    tags = ", ".join(f"{tag} {n}" for tag, n in result.tag_counts.items()) or "none"
    click.echo(f"Analysed run {result.run_id} (dataset {result.dataset}): "
               f"{result.utterances} labels, {result.files_scored} scored files, "
               f"{result.errors} errors; tags: {tags}.")
    click.echo("")
    for sentence in result.summary:
        click.echo(sentence)


# --- report / run (asrlens/report) ---------------------------------------------------------


AUDIO_CHOICES = ("embed", "link", "none")


def group_by_option(fn):
    """--group-by RULE: how files are grouped (shared by compare, report and run)."""
    return click.option(
        "--group-by", "group_by", metavar="RULE", default=None,
        help="Group files by regex:PATTERN over utt_id (first capture group, else the match), "
             "label:COLUMN (an extra column of the labels file) or sql:EXPRESSION "
             "[default: regex:^[^-]+, the LJSpeech chapter LJ001].")(fn)


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
@group_by_option
@db_option
def report_command(run_ids, dataset, out_dir, audio, top_n, seed, group_by, db_path):
    """Write a shareable HTML report: OUT/index.html, one self-contained file.

    \b
    Sections: the dataset (sizes, formats, levels, ingest issues), one file
    explored, the run (engine, corpus WER/MER/WIL/CER with 95% bootstrap
    intervals, speed), then per-file WER distribution, results by group
    (--group-by), worst files with aligned transcripts, error patterns, why it
    fails and, with several --run, a comparison with significance tests.
    CSS, plots and audio are inside the file: no network is needed to open it,
    so it can be mailed or attached to a ticket. With no run in the database
    yet, the report covers the dataset only.

    \b
    Examples:
      asrlens report                                   # latest finished run
      asrlens report --run sphinx --out report/ --audio link
      asrlens report --run w2v --run sphinx            # compare two runs
      asrlens report --group-by label:speaker          # results per speaker
      asrlens report --audio none --top 50
    """
    from asrlens.report import render_report

    with open_database(db_path, read_only=True) as engine:
        path = render_report(engine, run_ids=run_ids, dataset=dataset, out_dir=out_dir,
                             audio=audio, top_n=top_n, seed=seed, group_by=group_by)
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
    from asrlens.interrupt import exit_status, signal_name
    from asrlens.pipeline import run_pipeline

    with open_database(db_path) as engine:
        try:
            result = run_pipeline(
                engine, dataset, engine_name=engine_name, model=model, checkpoint=checkpoint,
                device=device, precision=precision, limit=limit, run_id=run_id, name=name,
                out_dir=out_dir, audio=audio, top_n=top_n, seed=seed, progress=progress,
                on_step=lambda line: click.echo(line, err=True),
            )
        except KeyboardInterrupt:  # RunInterrupted included: whole files are committed
            click.echo(f"Interrupted ({signal_name()}): what was committed is kept (whole "
                       f"files). Resume with: {_same_command()}", err=True)
            sys.exit(exit_status())
    click.echo(result.report_path)


# --- compare (asrlens/compare) -------------------------------------------------------------


@cli.command("compare")
@click.argument("run_a", metavar="RUN_A")
@click.argument("run_b", metavar="RUN_B")
@group_by_option
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seeds the bootstrap (the same seed gives the same figures).")
@click.option("--replicates", type=click.IntRange(min=100), default=1000, show_default=True,
              help="Bootstrap replicates (files resampled with replacement).")
@db_option
def compare_command(run_a, run_b, group_by, seed, replicates, db_path):
    """Is RUN_B better than RUN_A? Paired significance over the files both scored.

    \b
    Prints each run's WER over the shared files (its own reference words),
    the bootstrap probability that RUN_B is better with a 95% interval of
    ΔWER = WER_B - WER_A, sc_stats's four tests (MAPSSWE, sign, Wilcoxon,
    McNemar) with p-values and which run is better at 0.05, and per-group
    WERs. Stores them in run_comparisons, comparison_tests and group_results.
    README "Comparing runs" says which test answers which question.

    \b
    Examples:
      asrlens compare sphinx w2v
      asrlens compare sphinx w2v --group-by label:speaker
      asrlens compare sphinx w2v --group-by "sql:case when duration_s < 4 then 's' else 'l' end"
      asrlens sql "select * from comparison_tests"
    """
    from asrlens.compare import compare_runs, parse_rule, store_comparison
    from asrlens.compare.report_text import comparison_lines

    rule = parse_rule(group_by)
    with open_database(db_path) as engine:
        with engine.connect() as conn:
            comparison = compare_runs(conn, run_a=run_a, run_b=run_b, rule=rule, seed=seed,
                                      replicates=replicates)
        store_comparison(engine, comparison)
    for line in comparison_lines(comparison):
        click.echo(line)


# --- doctor (asrlens/health) ---------------------------------------------------------------


@cli.command("doctor")
@click.option("--fix", is_flag=True,
              help="Open the file read-write once: mark stale runs 'interrupted' and fold the "
                   ".wal into the file. Orphan rows are reported, never deleted.")
@db_option
def doctor_command(fix, db_path):
    """Check the database: schema version, rows per table, WAL, stale runs, orphan rows.

    \b
    Reads every row of every table back (a damaged block shows up), and says
    what to do about each finding:
      wal             FILE.wal beside the file holds committed changes not yet
                      in it: keep the two files together, or --fix
      stale run       a run says 'running' but its process is gone (killed):
                      resume it with asrlens infer --run NAME
      orphan rows     rows whose dataset, run or transcript is gone: the
                      DELETE statement to run
      schema          the file is older or newer than this asrlens
      damaged         a table cannot be read back: restore from a copy
    Exit status 0 when nothing was found, 1 otherwise. Never writes unless --fix.

    \b
    Examples:
      asrlens doctor
      asrlens doctor --db speech.duckdb --fix
    """
    from asrlens.health.doctor import diagnose

    diagnosis = diagnose(db_path, fix=fix)
    for line in _doctor_lines(diagnosis):
        click.echo(line)
    if diagnosis.findings:
        sys.exit(1)


def _doctor_lines(diagnosis) -> list[str]:
    version = "none" if diagnosis.schema_version is None else diagnosis.schema_version
    from asrlens.db import SCHEMA_VERSION

    wal = ("none" if diagnosis.wal_bytes is None
           else f"{diagnosis.path}.wal ({diagnosis.wal_bytes:,} bytes)")
    rows = ", ".join(f"{table} {n:,}" for table, n in diagnosis.table_rows.items())
    lines = [f"Database {diagnosis.path}",
             f"  schema version: {version} (this asrlens: {SCHEMA_VERSION})",
             f"  write-ahead log: {wal}",
             f"  rows (each read back): {rows or 'no tables'}"]
    lines += [f"  fixed: {line}" for line in diagnosis.fixed]
    if not diagnosis.findings:
        return [*lines, "No problems found."]
    lines.append(f"{len(diagnosis.findings)} finding(s):")
    for finding in diagnosis.findings:
        lines += [f"- [{finding.kind}] {finding.message}", f"  What to do: {finding.advice}"]
    return lines
