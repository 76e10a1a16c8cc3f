"""`asrlens infer`, `export` and `import-run` (asrlens/infer)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from asrlens import defaults
from asrlens.commands.common import (
    analyze_option,
    dataset_option,
    db_option,
    echo_lines,
    infer_options,
    normalizer_names,
    open_database,
    progress_option,
    same_command,
    say_default_run,
    with_db,
)
from asrlens.summaries import analysis_after_line


def _analysed(analysis) -> None:
    if analysis is not None:
        click.echo(analysis_after_line(analysis))


def _analysis_interrupted(run_id: str, db_path) -> None:
    """Ctrl-C or SIGTERM during the analysis after a stored run: say so, exit 130 or 143."""
    from asrlens.interrupt import exit_status, signal_name

    again = with_db(f"asrlens analyze --run {shlex.quote(run_id)}", db_path)
    click.echo(f"Interrupted ({signal_name()}) during the analysis: the run is stored whole. "
               f"Analyse it with: {again}")
    sys.exit(exit_status())


@click.command("infer")
@dataset_option
@infer_options
@progress_option
@analyze_option
@db_option
def infer_command(dataset, infer_settings, progress, then_analyze, db_path):
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
      asrlens infer --engine whisper                   # Whisper tiny.en, offline
      asrlens infer --engine whisper --normalizer whisper
      asrlens infer --limit 20 --run w2v-try           # wav2vec2 BASE on 20 files
      asrlens infer --model WAV2VEC2_ASR_LARGE_960H --device cuda
      asrlens infer --checkpoint wav2vec2_fairseq_base_ls960_asr_ls960.pth
      asrlens infer --ray head-node:6379               # on a Ray cluster
      asrlens infer --run w2v-try                      # resume it
      asrlens sql "select * from run_summary"

    Unless --no-analyze, the run is then analysed as by `asrlens analyze`.
    """
    from asrlens.infer import NothingScored, RunInterrupted
    from asrlens.interrupt import exit_status, signal_name
    from asrlens.pipeline import AnalysisInterrupted, infer_and_analyze

    with open_database(db_path) as engine:
        try:
            _run, analysis = infer_and_analyze(
                engine, dataset=dataset, settings=infer_settings, analyze=then_analyze,
                progress=progress, on_run=lambda run: echo_lines(run.summary_lines()))
            _analysed(analysis)
        except NothingScored as failed:
            echo_lines(failed.result.summary_lines())
            raise
        except RunInterrupted as stop:
            echo_lines(stop.result.summary_lines())
            resume = with_db(f"asrlens infer --run {shlex.quote(stop.result.run_id)}", db_path)
            click.echo(f"Interrupted ({signal_name()}): whole files are saved. Resume with: "
                       f"{resume}")
            sys.exit(exit_status())
        except AnalysisInterrupted as stop:
            _analysis_interrupted(stop.result.run_id, db_path)
        except KeyboardInterrupt:  # before the first file was transcribed
            click.echo(f"Interrupted ({signal_name()}) before any file was transcribed: "
                       f"nothing is lost. Resume with: {same_command()}")
            sys.exit(exit_status())


@click.command("export")
@click.option("--run", "run_id", metavar="NAME",
              help="The run to export [default: the most recent finished run; see "
                   "docs/datasets-and-runs.md].")
@click.option("--format", "fmt", type=click.Choice(defaults.EXPORT_FORMATS),
              default=defaults.EXPORT_FORMAT,
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
           word and character counts (hits, substitutions, deletions,
           insertions), wer, mer, wil, wip, cer.
    jsonl  the same columns, one JSON object per line.

    \b
    Examples:
      asrlens export --run sphinx --format trn --out sphinx-trn
      sctk sclite -r sphinx-trn/ref.trn trn -h sphinx-trn/hyp.trn trn -i rm -o rsum stdout
      asrlens export --run sphinx --format csv --out sphinx.csv
      asrlens export --run sphinx --format jsonl | head -3
    """
    from asrlens.infer.export import export_run

    with open_database(db_path, read_only=True) as engine:
        if run_id is None:
            say_default_run(engine)
        result = export_run(engine, run_id=run_id, fmt=fmt, out=out,
                            stream=None if out else sys.stdout)
    if result.paths:
        files = ", ".join(str(p) for p in result.paths)
        click.echo(f"wrote {result.rows} files of run {result.run_id} to {files}", err=True)


@click.command("import-run")
@click.argument("hyp_file", metavar="HYPFILE", type=click.Path(dir_okay=False, path_type=Path))
@dataset_option
@click.option("--run", "run_id", metavar="NAME", help="Run name [default: HYPFILE's stem].")
@click.option("--format", "fmt", default="auto", show_default=True,
              type=click.Choice(["auto", "trn", "csv", "tsv", "jsonl", "nemo"]),
              help="trn: `TEXT (ID)`; csv/tsv: ID,HYPOTHESIS (a header such as "
                   "utt_id,hypothesis is optional); jsonl: objects with an id and a text field; "
                   "nemo: manifest lines with audio_filepath and pred_text.")
@click.option("--model", metavar="LABEL",
              help="What made the hypotheses, e.g. whisper-large-v3 [default: the file name].")
@click.option("--normalizer", type=click.Choice(normalizer_names()),
              help=f"Text normalization before scoring [default: {defaults.NORMALIZER}].")
@click.option("--alignment", type=click.Choice(defaults.ALIGNMENTS), default=defaults.ALIGNMENT,
              show_default=True, help="Word alignment costs, as for `asrlens infer`.")
@click.option("--replace", is_flag=True,
              help="Replace an imported run of the same name (its analysis too).")
@analyze_option
@db_option
def import_run_command(hyp_file, dataset, run_id, fmt, model, normalizer, alignment, replace,
                       then_analyze, db_path):
    """Import another recognizer's hypotheses as a run (Whisper, a cloud API, NeMo, ...).

    \b
    Each line names an utterance by its id or its audio path (relative to the
    dataset, absolute, or just the file name when that is unique) and gives
    its hypothesis. The run is scored, analysed, reported and exported like
    one made by `asrlens infer`; `runs` records source_path and
    source_format. Lines that name no utterance, repeat one or cannot be
    parsed are listed (table import_issues); an utterance with audio but no
    hypothesis is a failed file, counted by run_summary's strict_wer.

    \b
    Examples:
      asrlens import-run whisper.csv --run whisper --model whisper-large-v3
      asrlens import-run hyp.trn --format trn --run sphinx-again
      asrlens import-run manifest_with_preds.json --format nemo --run conformer
      asrlens report --run whisper --run sphinx
    """
    from asrlens.errors import AsrlensError
    from asrlens.infer.import_run import ImportInterrupted
    from asrlens.interrupt import exit_status, signal_name
    from asrlens.pipeline import AnalysisInterrupted, import_and_analyze

    if not hyp_file.exists():  # checked before the database is opened
        raise AsrlensError(f"file not found: {hyp_file}")
    with open_database(db_path) as engine:
        try:
            _result, analysis = import_and_analyze(
                engine, hyp_file, analyze=then_analyze,
                on_import=lambda result: echo_lines(result.summary_lines()),
                dataset=dataset, run_id=run_id, fmt=fmt, normalizer=normalizer,
                alignment=alignment, model=model, replace=replace)
        except ImportInterrupted as stop:
            replaced = (" (the run it replaces was removed when the import began)"
                        if stop.replaced else "")
            click.echo(f"Interrupted ({signal_name()}): nothing of run {stop.run_id!r} is "
                       f"stored{replaced}. Import it again with: {same_command()}")
            sys.exit(exit_status())
        except AnalysisInterrupted as stop:
            _analysis_interrupted(stop.result.run_id, db_path)
        _analysed(analysis)
