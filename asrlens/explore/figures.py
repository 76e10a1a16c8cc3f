"""Figures of one audio file: waveform, spectrogram, MFCC, wav2vec2 features and emissions.

Every function takes arrays (never a file or a database) and returns a matplotlib Figure,
so the HTML report can draw the same pictures. Figures are built with
`matplotlib.figure.Figure` on the Agg canvas, outside pyplot's global registry: nothing
is left open after `save_figure`, and they are safe to build from any thread.

The time-frequency views are computed with torchaudio transforms (Spectrogram,
AmplitudeToDB, MFCC) over 25 ms windows every 10 ms.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

WINDOW_S = 0.025
"""Analysis window of the spectrogram and MFCC, seconds."""
HOP_S = 0.010
"""Hop between analysis frames, seconds."""
TOP_DB = 80.0
"""Dynamic range kept by AmplitudeToDB, dB below the loudest bin."""
N_MELS = 40
"""Mel bands behind the MFCC."""
N_MFCC = 13
"""MFCC coefficients shown (0 = overall level)."""
MAX_WAVEFORM_POINTS = 4000
"""Above this many samples per channel, the waveform is drawn as a min/max envelope."""
FIGURE_WIDTH_IN = 10.0
"""Figure width, inches (at DPI below: 1000 pixels)."""
DPI = 100
FEATURE_PANEL_IN = 2.2
"""Height of one layer's panel in the features figure, inches (halved above 6 layers)."""
TRANSCRIPT_LINE_CHARS = 100
"""The emissions figure prints the transcript on at most 2 lines of this many characters."""


def stft_params(sample_rate: int) -> dict:
    """n_fft, win_length and hop_length (samples) for WINDOW_S / HOP_S at `sample_rate` Hz."""
    win_length = max(1, round(WINDOW_S * sample_rate))
    hop_length = max(1, round(HOP_S * sample_rate))
    n_fft = 1 << (win_length - 1).bit_length()
    return {"n_fft": n_fft, "win_length": win_length, "hop_length": hop_length}


def spectrogram_db(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Power spectrogram in dB (re 1.0, full scale), shape (n_fft // 2 + 1 bins, frames).

    `samples`: mono float32 in [-1, 1]. Bin k is at k * sample_rate / n_fft Hz; frame j is
    centred at j * hop_length / sample_rate seconds (see `stft_params`).
    """
    import torch
    import torchaudio.transforms as T

    params = stft_params(sample_rate)
    spec = T.Spectrogram(**params, power=2.0)(torch.from_numpy(_mono(samples)))
    return T.AmplitudeToDB(stype="power", top_db=TOP_DB)(spec).numpy()


def mfcc(samples: np.ndarray, sample_rate: int, *, n_mfcc: int = N_MFCC) -> np.ndarray:
    """MFCC, shape (n_mfcc, frames), from N_MELS mel bands of the dB power spectrogram."""
    import torch
    import torchaudio.transforms as T

    params = stft_params(sample_rate)
    transform = T.MFCC(
        sample_rate=sample_rate,
        n_mfcc=n_mfcc,
        melkwargs={**params, "n_mels": N_MELS, "f_max": sample_rate / 2},
    )
    return transform(torch.from_numpy(_mono(samples))).numpy()


def waveform_figure(samples: np.ndarray, sample_rate: int, *, title: str) -> Figure:
    """Amplitude (full scale) against time (s); one panel per channel.

    `samples`: 1-D (mono) or (frames, channels), float in [-1, 1].
    """
    data = samples[:, None] if samples.ndim == 1 else samples
    frames, channels = data.shape
    fig = _figure(height=1.2 + 1.6 * channels)
    axes = fig.subplots(channels, 1, sharex=True, squeeze=False)[:, 0]
    duration = frames / sample_rate
    for ch, ax in enumerate(axes):
        _draw_waveform(ax, data[:, ch], sample_rate)
        ax.set_ylim(-1.0, 1.0)
        ax.set_ylabel("amplitude (FS)" if channels == 1 else f"ch {ch + 1}\namplitude (FS)")
        ax.grid(alpha=0.3)
    axes[-1].set_xlim(0.0, duration)
    axes[-1].set_xlabel("time (s)")
    fig.suptitle(title)
    return fig


def spectrogram_figure(samples: np.ndarray, sample_rate: int, *, title: str) -> Figure:
    """Power spectrogram (dB) with time (s) across, frequency (Hz) up, and a colour bar."""
    return _time_image(
        spectrogram_db(samples, sample_rate), sample_rate, height=4.0, cmap="magma",
        y_range=(0.0, sample_rate / 2), ylabel="frequency (Hz)", colorbar_label="power (dB)",
        title=title,
    )


def mfcc_figure(samples: np.ndarray, sample_rate: int, *, title: str) -> Figure:
    """MFCC coefficients against time (s), with a colour bar."""
    coeffs = mfcc(samples, sample_rate)
    return _time_image(
        coeffs, sample_rate, height=3.5, cmap="viridis",
        y_range=(-0.5, coeffs.shape[0] - 0.5), ylabel="MFCC coefficient (index)",
        colorbar_label="coefficient (dB-scaled)", title=title,
    )


def features_figure(
    features: Sequence[np.ndarray], layers: Sequence[int], *, frame_s: float, title: str
) -> Figure:
    """wav2vec2 transformer features: one panel per layer, time (s) across, dimension up.

    `features[i]` has shape (frames, dimensions) and comes from transformer layer
    `layers[i]` (1-based); `frame_s` is the time between frames in seconds (20 ms). The
    colour scale is symmetric about 0, clipped at the 99th percentile of |activation|.
    """
    if len(features) != len(layers) or not features:
        raise ValueError("features_figure needs one feature matrix per layer")
    panel_in = FEATURE_PANEL_IN if len(layers) <= 6 else FEATURE_PANEL_IN / 2
    fig = _figure(height=1.0 + panel_in * len(layers))
    axes = fig.subplots(len(layers), 1, sharex=True, squeeze=False)[:, 0]
    for ax, layer, feats in zip(axes, layers, features, strict=True):
        frames, dims = feats.shape
        limit = float(np.percentile(np.abs(feats), 99)) or 1.0
        image = ax.imshow(
            feats.T,
            vmin=-limit,
            vmax=limit,
            origin="lower",
            aspect="auto",
            cmap="coolwarm",
            extent=(0.0, frames * frame_s, 0.0, dims),
            interpolation="nearest",
        )
        ax.set_ylabel(f"layer {layer}\ndimension")
        fig.colorbar(image, ax=ax, label="activation", pad=0.01)
    axes[-1].set_xlabel("time (s)")
    fig.suptitle(title)
    return fig


def emissions_figure(
    emission: np.ndarray,
    labels: Sequence[str],
    *,
    frame_s: float,
    transcript: str,
    title: str,
) -> Figure:
    """CTC emissions: log-probability of each class (y, labelled) per frame (time, s).

    `emission`: (frames, classes) log-probabilities. The greedy path (most likely class per
    frame, blanks included) is drawn over it as dots and the decoded transcript is printed
    under the title. Class 0 is the CTC blank, shown as '<blank>'; '|' is the word break.
    """
    frames, classes = emission.shape
    if classes != len(labels):
        raise ValueError(f"emission has {classes} classes but {len(labels)} labels were given")
    fig = _figure(height=6.0)
    ax = fig.subplots()
    image = ax.imshow(
        emission.T,
        origin="lower",
        aspect="auto",
        cmap="Blues",
        extent=(0.0, frames * frame_s, -0.5, classes - 0.5),
        interpolation="nearest",
    )
    best = emission.argmax(axis=1)
    speech = best != 0
    times = (np.arange(frames) + 0.5) * frame_s
    ax.scatter(times[speech], best[speech], s=6, c="tab:red", label="greedy path (non-blank)")
    ax.set_yticks(range(classes))
    ax.set_yticklabels(["<blank>" if i == 0 else str(label) for i, label in enumerate(labels)],
                       fontsize=7)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("class (character)")
    ax.legend(loc="upper right", fontsize=8)
    fig.colorbar(image, ax=ax, label="log-probability")
    lines = textwrap.wrap(f'greedy decoding: "{transcript}"', width=TRANSCRIPT_LINE_CHARS,
                          max_lines=2, placeholder=' ..."')
    ax.set_title("\n".join(lines), fontsize=9)
    fig.suptitle(title)
    return fig


def save_figure(fig: Figure, path: str | os.PathLike) -> None:
    """Write `fig` as PNG to `path` and release its memory."""
    FigureCanvasAgg(fig)
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})
    fig.clear()


def _figure(*, height: float) -> Figure:
    fig = Figure(figsize=(FIGURE_WIDTH_IN, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _time_image(
    matrix: np.ndarray, sample_rate: int, *, height: float, cmap: str,
    y_range: tuple[float, float], ylabel: str, colorbar_label: str, title: str,
) -> Figure:
    """`matrix` (rows, analysis frames every HOP_S) as an image: time (s) across, rows up."""
    hop_s = stft_params(sample_rate)["hop_length"] / sample_rate
    fig = _figure(height=height)
    ax = fig.subplots()
    image = ax.imshow(
        matrix,
        origin="lower",
        aspect="auto",
        cmap=cmap,
        extent=(0.0, matrix.shape[1] * hop_s, *y_range),
        interpolation="nearest",
    )
    ax.set_xlabel("time (s)")
    ax.set_ylabel(ylabel)
    fig.colorbar(image, ax=ax, label=colorbar_label)
    ax.set_title(title)
    return fig


def _mono(samples: np.ndarray) -> np.ndarray:
    data = samples.mean(axis=1) if samples.ndim == 2 else samples
    return np.ascontiguousarray(data, dtype=np.float32)


def _draw_waveform(ax, channel: np.ndarray, sample_rate: int) -> None:
    frames = len(channel)
    if frames <= MAX_WAVEFORM_POINTS:
        ax.plot(np.arange(frames) / sample_rate, channel, linewidth=0.6)
        return
    # A min/max envelope over equal bins: every peak stays visible, the plot stays small.
    bins = MAX_WAVEFORM_POINTS // 2
    edges = np.linspace(0, frames, bins + 1).astype(np.int64)
    lows = np.minimum.reduceat(channel, edges[:-1])
    highs = np.maximum.reduceat(channel, edges[:-1])
    times = (edges[:-1] + edges[1:]) / 2 / sample_rate
    ax.fill_between(times, lows, highs, linewidth=0.4)
