"""`asrlens explore`: look at one ingested file — its numbers, its plots, its wav2vec2 view."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from asrlens import defaults
from asrlens.audio import load_audio
from asrlens.errors import AsrlensError
from asrlens.explore import figures
from asrlens.explore.pick import pick_utterance

DEFAULT_OUT = defaults.EXPLORE_OUT_DIR
MAX_TIME_FREQUENCY_S = 120.0
"""Spectrogram and MFCC cover at most the first this-many seconds (the waveform: all)."""

AUDIO_FILES = ("waveform.png", "spectrogram.png", "mfcc.png")
WAV2VEC2_FILES = ("features.png", "emissions.png")


@dataclass
class ExploreResult:
    """What `explore` looked at and wrote."""

    dataset: str
    utt_id: str
    path: Path                  # the audio file (absolute)
    channels: int
    frames: int                 # samples per channel
    sample_rate: int            # Hz
    duration_s: float           # frames / sample_rate
    seed: int | None            # seed of the random choice; None when chosen with utt_id
    transcript: str             # reference: normalized transcript when there is one, else raw
    files: list[Path] = field(default_factory=list)  # figures written, in order
    model: str | None = None                         # wav2vec2 bundle used for the views
    wav2vec2_transcript: str | None = None           # its greedy decoding of the file
    skipped: str | None = None  # why the wav2vec2 views were not drawn; None when they were


def explore(
    engine: sa.Engine | sa.Connection,
    *,
    out_dir: str | Path = DEFAULT_OUT,
    dataset: str | None = None,
    seed: int | None = None,
    utt_id: str | None = None,
    wav2vec2: bool = True,
    model: str = defaults.WAV2VEC2_MODEL,
    checkpoint: str | Path | None = None,
    layers: tuple[int, ...] | None = None,
    device: str | None = None,
    on_step: Callable[[str], None] | None = None,
) -> ExploreResult:
    """Pick one file (see `pick_utterance`), decode it and write its figures to `out_dir`.

    Always writes waveform.png, spectrogram.png and mfcc.png; with `wav2vec2`, also
    features.png (transformer `layers`, 1-based; None: first, middle and last; (): all) and
    emissions.png. When the model's weights cannot be had, the wav2vec2 views are skipped
    and `skipped` says why; a `checkpoint` that is missing or does not fit raises
    AsrlensError. `on_step` receives one human-readable line per step as it happens.
    """
    from asrlens.explore import wav2vec2_view as w2v  # imports torch: only when exploring

    say = on_step or (lambda line: None)
    chosen_layers = None
    if wav2vec2:  # check options before doing any work
        chosen_layers = w2v.choose_layers(layers, w2v.num_layers(model))
        device = w2v.pick_device(device)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise AsrlensError(f"--out {out} is a file: give a folder for the figures")

    row = pick_utterance(engine, dataset=dataset, seed=seed, utt_id=utt_id)
    path = Path(row["root"]) / row["audio_path"]
    if row["seed"] is not None:
        say(f"seed {row['seed']} (repeat this choice with --seed {row['seed']})")
    if not path.is_file():
        raise AsrlensError(
            f"the audio of utterance {row['utt_id']!r}, {path}, is gone since it was ingested: "
            f"ingest the dataset again (`asrlens ingest SOURCE`)"
        )
    samples, rate = load_audio(path, mono=False)
    frames, channels = samples.shape
    result = ExploreResult(
        dataset=row["dataset"],
        utt_id=row["utt_id"],
        path=path,
        channels=channels,
        frames=frames,
        sample_rate=rate,
        duration_s=frames / rate,
        seed=row["seed"],
        transcript=row["normalized_transcript"] or row["transcript"],
    )
    say(f"utterance {result.utt_id} of dataset {result.dataset}: {path}")
    say(f"waveform shape (channels, frames) = ({channels}, {frames}), "
        f"sample rate {rate} Hz, duration {result.duration_s:.3f} s")
    say(f"transcript: {result.transcript}")

    out.mkdir(parents=True, exist_ok=True)
    for name, fig in _audio_figures(samples, rate, result):
        result.files.append(_save(fig, out / name, say))
    if not wav2vec2:
        return result

    try:
        net, labels, model_rate = w2v.load_model(model, checkpoint=checkpoint, device=device)
    except w2v.WeightsUnavailable as exc:
        result.skipped = str(exc)
        return result
    say(f"running {model} on {device} over the first {w2v.MAX_MODEL_S:.0f} s at most")
    mono = w2v.model_input(samples.mean(axis=1), rate, model_rate)
    view = w2v.wav2vec2_view(net, labels, mono, sample_rate=model_rate, layers=chosen_layers)
    result.model = model
    result.wav2vec2_transcript = view.transcript
    part = f", first {view.seconds:.0f} s" if view.truncated else ""
    name = f"{result.utt_id} ({result.dataset})"
    result.files.append(_save(
        figures.features_figure(
            view.features, view.layers, frame_s=view.frame_s,
            title=f"{name}: {model} transformer features{part}",
        ),
        out / WAV2VEC2_FILES[0], say,
    ))
    result.files.append(_save(
        figures.emissions_figure(
            view.emission, view.labels, frame_s=view.frame_s, transcript=view.transcript,
            title=f"{name}: {model} emissions (CTC class per frame){part}",
        ),
        out / WAV2VEC2_FILES[1], say,
    ))
    return result


def _audio_figures(samples: np.ndarray, rate: int, result: ExploreResult):
    """(file name, Figure) for the three audio plots; multi-channel files: the mix."""
    name = f"{result.utt_id} ({result.dataset})"
    mix = samples.mean(axis=1) if result.channels > 1 else samples[:, 0]
    what = f" of the mix of {result.channels} channels" if result.channels > 1 else ""
    limit = int(MAX_TIME_FREQUENCY_S * rate)
    part = f", first {MAX_TIME_FREQUENCY_S:.0f} s" if len(mix) > limit else ""
    yield "waveform.png", figures.waveform_figure(
        samples, rate,
        title=f"{name}: waveform, {result.channels} ch, {rate} Hz, {result.duration_s:.2f} s",
    )
    yield "spectrogram.png", figures.spectrogram_figure(
        mix[:limit], rate, title=f"{name}: spectrogram{what}{part}"
    )
    yield "mfcc.png", figures.mfcc_figure(
        mix[:limit], rate, title=f"{name}: MFCC{what}{part}"
    )


def _save(fig, path: Path, say: Callable[[str], None]) -> Path:
    figures.save_figure(fig, path)
    say(f"wrote {path}")
    return path
