"""What the commands share: --db and the database, the options of each stage, output helpers.

Each stage's options are defined once here and collected into that stage's settings object
(asrlens.settings), so `asrlens infer` and `asrlens run` (and `ingest` and `run`) take the
same options with the same defaults and help:

    @cli.command("infer")
    @infer_options                   # --engine ... --read-workers -> infer_settings
    @db_option
    def infer_command(infer_settings, db_path): ...

A new infer option is a field of InferSettings and an entry of INFER_OPTIONS below; infer,
run and the pipeline pass it on unchanged. Importing this module does not import torch.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import re
import shlex
import sys
from collections.abc import Iterable
from pathlib import Path

import click

from asrlens import ENV_DB, defaults
from asrlens.errors import AsrlensError
from asrlens.settings import InferSettings, IngestSettings


def echo_lines(lines: Iterable[str], *, err: bool = False) -> None:
    for line in lines:
        click.echo(line, err=err)


def same_command() -> str:
    """The command line of this invocation, to run again."""
    ctx = click.get_current_context(silent=True)
    args = ctx.meta.get("asrlens.args", sys.argv[1:]) if ctx else sys.argv[1:]
    return shlex.join(["asrlens", *args])


def with_db(command: str, db_path: Path) -> str:
    """`command` with --db when the database is not the default one."""
    if str(db_path) == defaults.DB:
        return command
    return f"{command} --db {shlex.quote(str(db_path))}"


# --- the database --------------------------------------------------------------------------


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


def db_option(fn):
    """--db PATH, shared by every command (env ASRLENS_DB, default ./asrlens.duckdb)."""

    @click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar=ENV_DB,
        default=defaults.DB,
        show_default=True,
        help=f"DuckDB file to use (env {ENV_DB}).",
    )
    @click.option(
        "--wait", "wait_s", type=click.FloatRange(min=0), metavar="SECONDS", default=0,
        help="When another process holds the database (a run writing), wait up to this long "
             "for it [default: 0, say who holds it and stop].")
    @functools.wraps(fn)
    @_database_errors
    def wrapper(*args, wait_s=0, **kwargs):
        from asrlens.db.locks import wait_for_lock

        with wait_for_lock(wait_s):
            return fn(*args, **kwargs)

    return wrapper


@contextlib.contextmanager
def open_database(db_path: Path, *, read_only: bool = False, create: bool = False):
    """asrlens.db.database for a command: a .wal left after an error is a `Warning:` line;
    one left after success is CheckpointFailed (`Warning:` and exit status 1). Only with
    create=True (ingest, run, probe) is a missing file made: any other command says there is
    none."""
    from asrlens.db import database, no_database, resolve_path

    if not create and not resolve_path(db_path).exists():
        raise no_database(resolve_path(db_path))
    with database(db_path, read_only=read_only,
                  on_warning=lambda text: click.echo(f"Warning: {text}", err=True)) as engine:
        yield engine


def say_default_run(engine, *, report_dataset: str | None = None,
                    for_report: bool = False) -> None:
    """On stderr, the run a command picked because none was named, by asrlens.catalog's rule
    (for_report: the report's, within its dataset); nothing when there is none (the command
    says so itself)."""
    from asrlens.catalog import resolve_report, resolve_run

    try:
        run = ((resolve_report(engine, (), dataset=report_dataset)[0] or [None])[0]
               if for_report else resolve_run(engine))
    except AsrlensError:
        return
    if run is not None:
        click.echo(f"Using run {run['run_id']} ({run['status']}, the most recent; choose "
                   f"another with --run NAME)", err=True)


# --- options -------------------------------------------------------------------------------


def _apply(fn, options):
    for option in reversed(options):
        fn = option(fn)
    return fn


def _collect(fn, settings_class, param: str):
    """fn gets the options named like `settings_class`'s fields as one object, `param`."""
    names = [f.name for f in dataclasses.fields(settings_class)]

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        kwargs[param] = settings_class(**{name: kwargs.pop(name) for name in names})
        return fn(*args, **kwargs)

    return wrapper


def normalizer_names() -> list[str]:
    from asrlens.scoring.normalize import NORMALIZERS

    return list(NORMALIZERS)


INGEST_OPTIONS = [
    click.option("--name", help="Dataset name in the database [default: folder name or zip "
                                "stem]."),
    click.option("--labels", "labels", metavar="FILE",
                 help="Labels or manifest file: a path, or a name inside the dataset "
                      "[default: what the layout finds; LJSpeech: the first of labels.csv, "
                      "metadata.csv, labels.tsv, metadata.tsv, labels.txt at its root]."),
    click.option("--workers", type=click.IntRange(min=1), metavar="N",
                 help="Processes reading audio [default: all cores]."),
    click.option("--layout", type=click.Choice(["auto", *defaults.LAYOUTS]), default="auto",
                 show_default=True,
                 help="How the dataset is laid out; auto recognises it from its files "
                      "(docs/ingest.md)."),
    click.option("--speaker-column", metavar="NAME",
                 help="Column or manifest key holding the speaker [default: speaker, "
                      "speaker_id, client_id, ... whichever is present]."),
    click.option("--allow-outside-paths", is_flag=True, default=False,
                 help="Read audio a manifest names by an absolute path outside the dataset "
                      "folder (each recorded as an outside_path issue)."),
    click.option("--zip-max-size", metavar="SIZE", default=defaults.ZIP_MAX_SIZE,
                 show_default=True,
                 help="A .zip may unpack to at most this much in all (bytes, or 500M, 20G, 1T)."),
    click.option("--zip-max-ratio", type=click.FloatRange(min=1), default=defaults.ZIP_MAX_RATIO,
                 show_default=True,
                 help="A .zip entry over 1 MiB may expand at most this many times."),
    click.option("--zip-max-entries", type=click.IntRange(min=1),
                 default=defaults.ZIP_MAX_ENTRIES, show_default=True,
                 help="A .zip may hold at most this many entries."),
]
"""Options of `asrlens ingest` (and `run`), one per IngestSettings field."""

def _known_engine(ctx, param, name: str | None) -> str | None:
    """--engine is checked when the options are parsed, before any work or output."""
    from asrlens.infer.recognizers import RECOGNIZERS

    if name is not None and name not in RECOGNIZERS:
        raise AsrlensError(f"unknown engine {name!r}; choose one of: {', '.join(RECOGNIZERS)}")
    return name


class DeviceType(click.ParamType):
    """--device: auto, cpu, cuda or cuda:N (whether that GPU exists is checked when the model
    loads)."""

    name = "device"
    PATTERN = re.compile(r"auto|cpu|cuda(:\d+)?")

    def convert(self, value, param, ctx):
        if isinstance(value, str) and self.PATTERN.fullmatch(value.strip()):
            return value.strip()
        self.fail(f"{value!r} is not a device: use auto, cpu, cuda or cuda:N", param, ctx)


def device_option(fn):
    """--device, one parser for infer, run and explore."""
    return click.option("--device", type=DeviceType(), default=defaults.DEVICE,
                        show_default=True, metavar="auto|cpu|cuda[:N]",
                        help="Where the model runs; auto takes a GPU when there is one.")(fn)


INFER_OPTIONS = [
    click.option("--engine", "engine_name", metavar="NAME", callback=_known_engine,
                 help=f"Recognizer: wav2vec2 (torchaudio; needs its weights), pocketsphinx "
                      f"(offline, bundled English model), whisper (faster-whisper; tiny.en "
                      f"offline from asrlens[whisper]) or transformers (a Hugging Face CTC or "
                      f"Whisper checkpoint: --model ID_OR_FOLDER) [default: {defaults.ENGINE}; "
                      f"a resumed run keeps its own]."),
    click.option("--model", metavar="NAME",
                 help="Model of the engine, e.g. WAV2VEC2_ASR_LARGE_960H, or for whisper "
                      "tiny.en, base.en, large-v3, ... or a CTranslate2 model folder; "
                      "transformers: a hub id or a save_pretrained folder [default: the "
                      "engine's]."),
    click.option("--checkpoint", type=click.Path(exists=True), metavar="PATH",
                 help="wav2vec2: weights file to load instead of the torch hub cache; "
                      "whisper: a CTranslate2 model folder (offline machines)."),
    device_option,
    click.option("--precision", type=click.Choice(defaults.PRECISIONS),
                 help=f"Compute precision [default: {defaults.PRECISION}, whisper: int8 on "
                      f"CPU and fp16 on a GPU; a resumed run keeps its own]. bf16 is faster "
                      f"on CPU; fp16 needs a GPU; int8 is for whisper."),
    click.option("--limit", type=click.IntRange(min=1), metavar="N",
                 help="Only the first N files with audio, by utterance id."),
    click.option("--run", "run_id", metavar="NAME",
                 help="Run name [default: DATASET:ENGINE[:MODEL]]. An existing run is "
                      "resumed."),
    click.option("--normalizer", type=click.Choice(normalizer_names()),
                 help=f"Text normalization before scoring [default: {defaults.NORMALIZER}]."),
    click.option("--alignment", type=click.Choice(defaults.ALIGNMENTS),
                 help=f"Word alignment: unit (every edit costs 1) or sclite (substitution 4, "
                      f"insertion and deletion 3, as NIST sclite) [default: "
                      f"{defaults.ALIGNMENT}; a resumed run keeps its own]."),
    click.option("--batch-files", type=click.IntRange(min=1), default=defaults.BATCH_FILES,
                 show_default=True, help="Commit results every N files (or every 10 s)."),
    click.option("--chunk-s", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
                 help="wav2vec2: files longer than this go through the model in overlapping "
                      "chunks, so memory stays flat; pocketsphinx: in blocks cut at pauses "
                      "[default: 30]."),
    click.option("--overlap-s", type=click.FloatRange(min=0), metavar="SECONDS",
                 help="wav2vec2: overlap between chunks [default: 2]."),
    click.option("--beam-size", "beam_size", type=click.IntRange(min=1), metavar="N",
                 help="transformers (sequence-to-sequence models): beams of generate "
                      "[default: 1, greedy]."),
    click.option("--cpu-kernels", type=click.Choice(defaults.CPU_KERNELS_CHOICES),
                 help=f"wav2vec2 on CPU: torchaudio's own kernels (stock) or oneDNN's packed "
                      f"ones, checked against the stock model at load and replaced by it "
                      f"with a warning when they disagree or fail [default: "
                      f"{defaults.CPU_KERNELS}; a resumed run keeps its own]."),
    click.option("--batch-seconds", "batch_audio_s", type=click.FloatRange(min=0),
                 metavar="SECONDS",
                 help="wav2vec2: recognize files sorted by length in zero-padded batches of "
                      "at most this many audio seconds, each file as if alone; whisper: "
                      "faster-whisper's batched pipeline, SECONDS/30 windows at a time; 0: "
                      "one file at a time [default: 0 on CPU; on a GPU, sized from its free "
                      "memory (whisper: 480)]."),
    click.option("--temperature-fallback", "temperature_fallback", is_flag=True, default=None,
                 help="whisper: decode a window again at temperatures 0.2 ... 1.0 when its "
                      "text repeats or its log-probability is low (transcripts may then vary "
                      "from run to run) [default: off, temperature 0 only]."),
    click.option("--read-workers", type=click.IntRange(min=0), metavar="N",
                 help="Processes that decode and resample ahead of the recognizer [default: 0 "
                      "(a thread) on CPU, up to 8 on a GPU]."),
    click.option("--ray", "ray", is_flag=False, flag_value="local", metavar="[ADDRESS]",
                 help="Recognize on a Ray cluster (pip install 'asrlens[ray]'): ADDRESS of a "
                      "running one (HOST:6379, ray://HOST:10001), none for a local one on this "
                      "machine. This machine reads nothing and writes the database."),
]
"""Options of `asrlens infer` (and `run`), one per InferSettings field."""


def ingest_options(fn):
    """INGEST_OPTIONS, given to the command as one IngestSettings, `ingest_settings`."""
    return _apply(_collect(fn, IngestSettings, "ingest_settings"), INGEST_OPTIONS)


def infer_options(fn):
    """INFER_OPTIONS, given to the command as one InferSettings, `infer_settings`."""
    return _apply(_collect(fn, InferSettings, "infer_settings"), INFER_OPTIONS)


def progress_option(fn):
    return click.option("--progress/--no-progress", default=True, show_default=True,
                        help="Show progress bars on stderr (infer: files, audio hours, "
                             "real-time factor).")(fn)


def analyze_option(fn):
    return click.option("--analyze/--no-analyze", "then_analyze", default=True,
                        show_default=True,
                        help="Then run `asrlens analyze` on the run (error tags, features, "
                             "summary).")(fn)


def dataset_option(fn):
    return click.option("--dataset", metavar="NAME",
                        help="Ingested dataset [default: the only one, else the default "
                             "run's; see docs/datasets-and-runs.md].")(fn)


def group_by_option(fn):
    """--group-by RULE: how files are grouped (shared by compare, report and run)."""
    return click.option(
        "--group-by", "group_by", metavar="RULE", default=None,
        help="Group files by regex:PATTERN over utt_id (first capture group, else the match), "
             "label:COLUMN (an extra column of the labels file), speaker "
             "(utterances.speaker) or sql:EXPRESSION [default: regex:^[^-]+, the LJSpeech "
             "chapter LJ001; compare's tests: speaker when the dataset has speakers].")(fn)


def report_options(fn):
    """--out, --audio, --top, --seed, --group-by: shared by `report` and `run`."""
    return _apply(fn, [
        click.option("--out", "out_dir", default=defaults.REPORT_OUT_DIR, show_default=True,
                     type=click.Path(file_okay=False, path_type=Path),
                     help="Folder to write index.html to (created if missing)."),
        click.option("--audio", type=click.Choice(defaults.AUDIO_MODES),
                     default=defaults.REPORT_AUDIO, show_default=True,
                     help="Worst files' audio: embed (short Ogg/Vorbis clips inside the page), "
                          "link (file:// links to the dataset) or none."),
        click.option("--top", "top_n", type=click.IntRange(min=1), default=defaults.REPORT_TOP_N,
                     show_default=True, help="How many worst files to list."),
        click.option("--seed", type=int, default=defaults.SEED, show_default=True,
                     help="Seeds the sampled file and the bootstrap intervals."),
        group_by_option,
    ])
