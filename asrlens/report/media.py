"""Audio for the report: embedded (compressed, short) or linked to the dataset's file.

    src = audio_source(ctx, "wavs/LJ001-0001.wav")   # None when ctx.audio == 'none'
    # template: {% if src %}<audio controls preload="none" src="{{ src.url }}"></audio>{% endif %}
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from asrlens.audio import load_audio
from asrlens.errors import AsrlensError

EMBED_SAMPLE_RATE = 16000
"""Hz: embedded audio is resampled to this, mono."""
EMBED_MAX_S = 15.0
"""Seconds: embedded audio is cut to this length (the page says so)."""
EMBED_FORMAT = ("OGG", "VORBIS", "audio/ogg")
"""libsndfile format, subtype and MIME type of embedded audio (about 4 kB per second)."""


@dataclass(frozen=True)
class AudioSource:
    """Where the page's <audio> element gets its sound."""

    url: str            # data: URI (embed) or file:// URI (link)
    mime: str | None    # MIME type for <source type=...>; None for links
    duration_s: float | None = None  # the file's duration (embedded audio only)
    kept_s: float | None = None      # seconds embedded, when the clip was cut short


def audio_source(ctx, path: str | None, *, start_s: float | None = None,
                 end_s: float | None = None) -> AudioSource | None:
    """The audio for a file of ctx.dataset, following ctx.audio; None when absent or 'none'.

    `path` is relative to the dataset root (audio_files.path). An embed that fails to decode
    gives None (the report still renders); a link is given even when the file is gone.
    start_s / end_s: a span of the recording (utterance_spans): an embed holds only the
    span; a link points to the whole recording.
    """
    if ctx.audio == "none" or not path or ctx.dataset_root is None:
        return None
    file = Path(ctx.dataset_root) / path
    if ctx.audio == "link":
        return AudioSource(url=file.resolve().as_uri(), mime=None)
    try:
        return embed_audio(file, start_s=start_s, end_s=end_s)
    except AsrlensError:
        return None


def embed_audio(
    path: str | Path, *, sample_rate: int = EMBED_SAMPLE_RATE, max_s: float = EMBED_MAX_S,
    start_s: float | None = None, end_s: float | None = None,
) -> AudioSource:
    """Decode `path` (only [start_s, end_s) when given), resample to mono `sample_rate` Hz,
    cut to `max_s` seconds, encode as Ogg/Vorbis and return it as a data: URI. Raises
    AsrlensError if the file cannot be read."""
    samples, rate = load_audio(path, sample_rate=sample_rate, start_s=start_s, end_s=end_s)
    duration_s = samples.size / rate
    kept_s = None
    if duration_s > max_s:
        samples = samples[: int(max_s * rate)]
        kept_s = max_s
    container, subtype, mime = EMBED_FORMAT
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(samples, -1.0, 1.0), rate, format=container, subtype=subtype)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return AudioSource(
        url=f"data:{mime};base64,{data}", mime=mime, duration_s=duration_s, kept_s=kept_s
    )
