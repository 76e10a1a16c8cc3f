"""`asrlens run`: ingest, infer, analyze and report in one go.

    result = run_pipeline(engine, "../shared/data/ljspeech-sample", engine_name="pocketsphinx")
    print(result.report_path)            # asrlens-report/index.html

Each stage is the same function its own command calls, so `asrlens run` followed by
`asrlens report --run NAME` or `asrlens sql ...` sees exactly what the stages wrote.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from asrlens.report.render import (
    DEFAULT_OUT_DIR,
    DEFAULT_SEED,
    DEFAULT_TOP_N,
    fmt_pct,
    render_report,
)


@dataclass(frozen=True)
class PipelineResult:
    """What `run_pipeline` did: the stages' own results and the report written."""

    ingest: object      # asrlens.ingest.IngestSummary
    run: object         # asrlens.infer.RunResult
    analysis: object    # asrlens.analysis.AnalysisResult
    report_path: Path   # the report's index.html


def run_pipeline(
    engine: sa.Engine,
    source: str | os.PathLike,
    *,
    engine_name: str | None = None,
    model: str | None = None,
    checkpoint: str | None = None,
    device: str = "auto",
    precision: str | None = None,
    limit: int | None = None,
    run_id: str | None = None,
    name: str | None = None,
    out_dir: str | Path = DEFAULT_OUT_DIR,
    audio: str = "embed",
    top_n: int = DEFAULT_TOP_N,
    seed: int = DEFAULT_SEED,
    progress: bool = True,
    on_step: Callable[[str], None] | None = None,
) -> PipelineResult:
    """Ingest `source`, transcribe and score it with `engine_name`, analyse the run, render
    the report. engine_name and precision left None mean infer's defaults (wav2vec2, fp32) for
    a new run and the stored ones for a run being resumed. The engine is never switched:
    missing wav2vec2 weights raise the engine's AsrlensError (saying how to supply them).
    `on_step` gets one line per finished stage."""
    from asrlens.analysis import analyze
    from asrlens.infer import infer
    from asrlens.ingest import ingest

    say = on_step or (lambda line: None)
    ingested = ingest(engine, source, name=name, progress=progress)
    say(f"ingested {ingested.dataset}: {ingested.utterances} labels, "
        f"{ingested.with_audio} with audio ({ingested.hours:.2f} h)")
    run = infer(
        engine, dataset=ingested.dataset, engine_name=engine_name, model=model,
        checkpoint=checkpoint, device=device, precision=precision, limit=limit, run_id=run_id,
        progress=progress,
    )
    say(f"run {run.run_id}: {run.files_scored} files scored, WER {fmt_pct(run.wer)}, "
        f"{len(run.failed)} failed")
    analysis = analyze(engine, run_id=run.run_id)
    say(f"analysed run {analysis.run_id}: {analysis.errors} errors tagged")
    path = render_report(
        engine, run_ids=[run.run_id], out_dir=out_dir, audio=audio, top_n=top_n, seed=seed
    )
    return PipelineResult(ingest=ingested, run=run, analysis=analysis, report_path=path)
