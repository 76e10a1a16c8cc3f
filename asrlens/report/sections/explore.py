"""Section 2, Exploration: one sampled file up close (the figures of `asrlens explore`).

Shape, sample rate, waveform, spectrogram and MFCC always; wav2vec2 transformer features and
CTC emissions when the primary run's engine is wav2vec2 and its weights can be loaded.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from asrlens.audio import load_audio
from asrlens.errors import AsrlensError
from asrlens.report import plots
from asrlens.report.context import ReportContext, run_query
from asrlens.report.media import audio_source
from asrlens.report.sections.worst import fold_text

TITLE = "Exploration of one file"
TEMPLATE = "_explore.html"
MAX_TIME_FREQUENCY_S = 60.0
"""Seconds of audio the spectrogram and MFCC cover at most."""
CAPTIONS = {
    "waveform": "Look at the envelope: speech bursts against pauses, and whether peaks reach "
    "full scale (±1, clipping).",
    "spectrogram": "Look for energy bands (formants) during speech and for hum or noise "
    "as horizontal lines that persist through the pauses.",
    "mfcc": "The compact spectral summary classic recognizers use: stable colours across "
    "a pause mean steady background noise.",
    "features": "Early layers follow the sound; later layers change at phone and word "
    "boundaries, where the model decides what was said.",
    "emissions": "Dots mark the most likely character per 20 ms frame; long gaps are blanks, "
    "and pale columns are frames where the model hesitates.",
}


def build(engine: sa.Engine, ctx: ReportContext) -> dict | None:
    """Figures of one file of ctx.dataset, picked with ctx.seed (the same file as
    `asrlens explore --seed SEED`)."""
    from asrlens.explore import figures, pick_utterance

    try:
        row = pick_utterance(engine, dataset=ctx.dataset, seed=ctx.seed)
        path = Path(row["root"]) / row["audio_path"]
        samples, rate = load_audio(path, mono=False)
    except AsrlensError as exc:
        return {"file": None, "problem": str(exc)}
    frames, channels = samples.shape
    mono = samples.mean(axis=1)
    limit = int(MAX_TIME_FREQUENCY_S * rate)
    part = f", first {MAX_TIME_FREQUENCY_S:.0f} s" if frames > limit else ""
    name = row["utt_id"]
    figs = [
        (figures.waveform_figure(samples, rate, title=f"{name}: waveform"), "waveform", "svg"),
        (figures.spectrogram_figure(mono[:limit], rate, title=f"{name}: spectrogram{part}"),
         "spectrogram", "jpeg"),
        (figures.mfcc_figure(mono[:limit], rate, title=f"{name}: MFCC{part}"), "mfcc", "jpeg"),
    ]
    with plots.plotting():
        rendered = [plots.to_plot(fig, caption=CAPTIONS[key], fmt=fmt) for fig, key, fmt in figs]
    wav2vec2 = wav2vec2_plots(ctx, mono, rate, name=name)
    run_view = None
    if ctx.run_id is not None:
        found = run_query(engine, "run_transcript", run_id=ctx.run_id, utt_id=row["utt_id"])
        run_view = {**found[0], "hyp_text": fold_text(found[0]["hyp_norm"])} if found else None
    return {
        "file": {
            "utt_id": row["utt_id"],
            "path": row["audio_path"],
            "channels": channels,
            "frames": frames,
            "sample_rate": rate,
            "duration_s": frames / rate,
            "transcript": row["transcript"],
            "normalized_transcript": row["normalized_transcript"],
        },
        "seed": ctx.seed,
        "audio": audio_source(ctx, row["audio_path"]),
        "plots": rendered,
        "wav2vec2": wav2vec2,
        "run_view": run_view,
        "problem": None,
    }


def wav2vec2_plots(ctx: ReportContext, mono, rate: int, *, name: str) -> dict:
    """{'plots': [...], 'note': str | None, 'transcript': str | None} for the run's wav2vec2
    model; plots empty and a one-line note when the run is not wav2vec2 or weights are missing."""
    run = ctx.run
    if run is None or run["engine"] != "wav2vec2":
        engine_name = run["engine"] if run else "no run"
        return {
            "plots": [],
            "transcript": None,
            "note": f"wav2vec2 layer features and emissions are drawn when the run's engine is "
            f"wav2vec2 (this report: {engine_name}).",
        }
    from asrlens.explore import figures
    from asrlens.explore import wav2vec2_view as w2v

    try:
        net, labels, model_rate = w2v.load_model(
            run["model"], checkpoint=run["checkpoint"], device=None
        )
    except AsrlensError as exc:
        return {"plots": [], "transcript": None,
                "note": f"wav2vec2 views not drawn: {str(exc).splitlines()[0]}"}
    samples = w2v.model_input(mono, rate, model_rate)
    total = w2v.num_layers(run["model"])
    layers = w2v.choose_layers(None, total)
    view = w2v.wav2vec2_view(net, labels, samples, sample_rate=model_rate, layers=layers)
    part = f", first {view.seconds:.0f} s" if view.truncated else ""
    with plots.plotting():
        rendered = [
            plots.to_plot(
                figures.features_figure(view.features, view.layers, frame_s=view.frame_s,
                                        title=f"{name}: transformer features{part}"),
                caption=CAPTIONS["features"], fmt="jpeg",
            ),
            plots.to_plot(
                figures.emissions_figure(view.emission, view.labels, frame_s=view.frame_s,
                                         transcript=view.transcript,
                                         title=f"{name}: CTC emissions{part}"),
                caption=CAPTIONS["emissions"], fmt="png",
            ),
        ]
    return {"plots": rendered, "transcript": view.transcript, "note": None}
