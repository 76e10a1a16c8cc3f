"""Stages chained: infer then analyze, import then analyze, and `asrlens run`'s
ingest, infer, analyze and report in one go.

    result = run_pipeline(engine, "../shared/data/ljspeech-sample",
                          infer=InferSettings(engine_name="pocketsphinx"))
    print(result.report_path)            # asrlens-report/index.html

Each stage is the same function its own command calls, so `asrlens run` followed by
`asrlens report --run NAME` or `asrlens sql ...` sees exactly what the stages wrote. The
functions here print nothing: `on_*` callbacks get each stage's result as it is done.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from asrlens import defaults
from asrlens.settings import InferSettings, IngestSettings


class AnalysisInterrupted(KeyboardInterrupt):
    """Ctrl-C during the analysis that follows a stored run: the run is whole; `result` is
    the stage's result (a RunResult or ImportResult) that was being analysed."""

    def __init__(self, result):
        super().__init__(f"analysis of run {result.run_id} interrupted")
        self.result = result


@dataclass(frozen=True)
class PipelineResult:
    """What `run_pipeline` did: the stages' own results and the report written."""

    ingest: object      # asrlens.ingest.IngestSummary
    run: object         # asrlens.infer.RunResult
    analysis: object    # asrlens.analysis.AnalysisResult, None with analyze=False
    report_path: Path   # the report's index.html


def analyze_stored(engine: sa.Engine, result, *, analyze: bool = True):
    """Analyse the run `result` (a RunResult or ImportResult) just stored, when `analyze` and
    something was scored; the AnalysisResult or None. Ctrl-C: AnalysisInterrupted."""
    if not analyze or not result.files_scored:
        return None
    from asrlens import analysis  # looked up per call: tests replace analysis.analyze

    try:
        return analysis.analyze(engine, run_id=result.run_id)
    except KeyboardInterrupt as exc:
        raise AnalysisInterrupted(result) from exc


def infer_and_analyze(
    engine: sa.Engine,
    *,
    dataset: str | None = None,
    settings: InferSettings | None = None,
    analyze: bool = True,
    progress: bool = True,
    on_run: Callable[[object], None] | None = None,
):
    """`infer` the dataset (None: the catalog's default) with `settings`, give the RunResult
    to `on_run`, then analyse the run (analyze_stored). Returns (RunResult, AnalysisResult or
    None); infer's own exceptions (RunInterrupted, NothingScored, ...) go on unchanged."""
    from asrlens.infer import infer

    settings = settings or InferSettings()
    run = infer(engine, dataset=dataset, progress=progress, **settings.infer_kwargs())
    return _told_then_analysed(engine, run, tell=on_run, analyze=analyze)


def import_and_analyze(
    engine: sa.Engine,
    hyp_file: str | os.PathLike,
    *,
    analyze: bool = True,
    on_import: Callable[[object], None] | None = None,
    **options,
):
    """`import_run(engine, hyp_file, **options)`, give the ImportResult to `on_import`, then
    analyse the run (analyze_stored). Returns (ImportResult, AnalysisResult or None)."""
    from asrlens.infer.import_run import import_run

    result = import_run(engine, hyp_file, **options)
    return _told_then_analysed(engine, result, tell=on_import, analyze=analyze)


def _told_then_analysed(engine: sa.Engine, result, *, tell, analyze: bool):
    """(result, its analysis or None), `tell(result)` called first when given."""
    if tell is not None:
        tell(result)
    return result, analyze_stored(engine, result, analyze=analyze)


def run_pipeline(
    engine: sa.Engine,
    source: str | os.PathLike,
    *,
    ingest: IngestSettings | None = None,
    infer: InferSettings | None = None,
    analyze: bool = True,
    out_dir: str | Path = defaults.REPORT_OUT_DIR,
    audio: str = defaults.REPORT_AUDIO,
    top_n: int = defaults.REPORT_TOP_N,
    seed: int = defaults.SEED,
    group_by: str | None = None,
    progress: bool = True,
    on_step: Callable[[str], None] | None = None,
) -> PipelineResult:
    """Ingest `source`, transcribe and score it, analyse the run, render the report.

    `ingest` and `infer` left None take every default. infer.engine_name and
    infer.precision left None mean infer's defaults (wav2vec2, fp32)
    for a new run and the stored ones for a run being resumed. The engine is never switched:
    missing wav2vec2 weights raise the engine's AsrlensError (saying how to supply them).
    With analyze=False the report has no "why it fails" analysis. `on_step` gets one line
    per finished stage.
    """
    from asrlens.ingest import ingest as ingest_dataset
    from asrlens.report.render import fmt_pct, render_report

    say = on_step or (lambda line: None)
    ingest = ingest or IngestSettings()
    ingested = ingest_dataset(engine, source, progress=progress, **ingest.ingest_kwargs())
    say(f"ingested {ingested.dataset}: {ingested.utterances} labels, "
        f"{ingested.with_audio} with audio ({ingested.hours:.2f} h)")

    def said(run):
        say(f"run {run.run_id}: {run.files_scored} files scored, WER {fmt_pct(run.wer)}, "
            f"{len(run.failed)} failed")

    run, analysis = infer_and_analyze(engine, dataset=ingested.dataset, settings=infer,
                                      analyze=analyze, progress=progress, on_run=said)
    if analysis is not None:
        say(f"analysed run {analysis.run_id}: {analysis.errors} errors tagged")
    path = render_report(engine, run_ids=[run.run_id], out_dir=out_dir, audio=audio,
                         top_n=top_n, seed=seed, group_by=group_by)
    return PipelineResult(ingest=ingested, run=run, analysis=analysis, report_path=path)


PROBE_DATASET = "probe"
"""Dataset name of `asrlens probe`'s clips."""


@dataclass(frozen=True)
class ProbeResult:
    """What `probe` did: the run over the probe clips and, per clip kind, what it wrote."""

    run: object            # asrlens.infer.RunResult
    folder: Path           # where the clips are
    rows: list             # probe_results rows (kind, clips, audio_s, chars, chars_per_minute, ...)

    def lines(self) -> list[str]:
        out = [f"Probe run {self.run.run_id}: characters written per minute of non-speech "
               f"audio (a clean recognizer writes 0):"]
        for r in self.rows:
            cpm = "n/a" if r["chars_per_minute"] is None else f"{r['chars_per_minute']:.1f}"
            text = f"  e.g. {r['texts'][:60]!r}" if r["texts"] else ""
            out.append(f"  {r['kind']:<20} {cpm:>7} chars/min  ({r['words']} words over "
                       f"{r['clips']} clips){text}")
        return out


def probe(
    engine: sa.Engine,
    *,
    settings: InferSettings,
    folder: str | os.PathLike,
    seed: int = defaults.SEED,
    clips_per_kind: int = 1,
    progress: bool = True,
) -> ProbeResult:
    """Write the seeded non-speech clips (asrlens.ingest.probe_clips) to `folder`, ingest
    them as dataset 'probe', transcribe them with `settings` as a normal run (default name
    'probe-ENGINE'), analyse it, and read probe_results. Raises AsrlensError without an
    engine."""
    from dataclasses import replace

    from asrlens.db import named_query, query
    from asrlens.errors import AsrlensError
    from asrlens.infer import infer
    from asrlens.ingest import ingest as ingest_dataset
    from asrlens.ingest.probe_clips import write_probe_dataset

    if not settings.engine_name:
        raise AsrlensError("asrlens probe needs --engine (e.g. --engine pocketsphinx)")
    folder = Path(folder).resolve()
    write_probe_dataset(folder, seed=seed, clips_per_kind=clips_per_kind)
    ingest_dataset(engine, folder, name=PROBE_DATASET, progress=progress)
    if settings.run_id is None:
        settings = replace(settings, run_id=f"probe-{settings.engine_name}")
    run = infer(engine, dataset=PROBE_DATASET, progress=progress, **settings.infer_kwargs())
    analyze_stored(engine, run)
    rows = query(engine, named_query("analysis", "probe_results"), run_id=run.run_id)
    return ProbeResult(run=run, folder=folder, rows=rows)
