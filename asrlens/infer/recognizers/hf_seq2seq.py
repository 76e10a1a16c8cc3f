"""Hugging Face sequence-to-sequence speech models (AutoModelForSpeechSeq2Seq): `generate`.

- Search: `num_beams = beam_size` (1, greedy, by default), never sampling.
- A bound on new tokens tied to the audio: ceil(TOKENS_PER_S x seconds) + EXTRA_TOKENS per
  file (per 30 s window for long files), within the decoder's `max_target_positions`. In a
  greedy batch each file stops at its own bound (a per-row stopping criterion), so a file's
  tokens in a batch are those it gets alone; with beams a batch shares its longest file's bound.
- Whisper without word times: files up to 30 s are batched (the feature extractor pads every
  file to 30 s, so a file's input is the same in a batch as alone). With word times (below)
  files go one at a time: transformers aligns a batch's tokens in one matrix, padded tokens
  included, so a file's times would depend on its batch. Longer files go alone through Whisper's own
  long-form generation (`generate` over the whole log-mel with an attention mask, 30 s windows
  with timestamps). Word times come from Whisper's cross-attention alignment
  (`return_token_timestamps`, which needs the checkpoint's `alignment_heads`), read as the
  transformers ASR pipeline reads them: token i spans [t[i-1], t[i]]. Without alignment heads,
  words have no times. Other seq2seq models: one file at a time, long files in 30 s windows
  whose transcripts are joined, words without times. Confidences: none (never invented).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from asrlens.infer.recognizers.base import Hypothesis, HypWord

WINDOW_S = 30.0  # seconds of audio a window (Whisper's input) holds
TOKENS_PER_S = 10  # new tokens allowed per audio second (speech runs at about 3-5) ...
EXTRA_TOKENS = 10  # ... plus this many
PROMPT_TOKENS = 8  # room kept in max_target_positions for the decoder's prompt
WORD_STARTS = ("Ġ", "▁", " ")  # how byte-level BPE / sentencepiece pieces mark a new word


class Seq2SeqBackend:
    """Transcripts from a loaded AutoModelForSpeechSeq2Seq and its processor."""

    def __init__(self, model: torch.nn.Module, processor, *, device: torch.device,
                 beam_size: int = 1):
        if beam_size < 1:
            raise ValueError(f"beam size must be at least 1, got {beam_size}")
        self.net, self.device, self.beam_size = model, device, beam_size
        self.feature_extractor = processor.feature_extractor
        self.tokenizer = processor.tokenizer
        self.sample_rate = int(self.feature_extractor.sampling_rate)
        self.window = int(WINDOW_S * self.sample_rate)
        self.is_whisper = model.config.model_type == "whisper"
        heads = getattr(model.generation_config, "alignment_heads", None)
        self.word_times = self.is_whisper and bool(heads)
        self.batched = self.is_whisper and not self.word_times
        self.max_new_cap = max(
            getattr(model.config, "max_target_positions", 448) - PROMPT_TOKENS, 1)
        self.special = set(self.tokenizer.all_special_ids)
        no_ts = getattr(model.generation_config, "no_timestamps_token_id", None)
        self.first_timestamp = None if no_ts is None else no_ts + 1

    def options(self) -> dict:
        return {
            "decoder": "generate",
            "num_beams": self.beam_size,
            "do_sample": False,
            "max_new_tokens": f"ceil({TOKENS_PER_S} x audio s) + {EXTRA_TOKENS}, at most "
                              f"{self.max_new_cap}",
            "window_s": WINDOW_S,
            "long_form": "whisper_generate" if self.is_whisper else "windows_joined",
            "batching": "whisper_30s_features" if self.batched else "one_file_at_a_time",
            "word_times": "whisper_cross_attention" if self.word_times else "none",
            "chunk_s": WINDOW_S,  # files longer than this are recognized alone
        }

    def max_new_tokens(self, num_samples: int) -> int:
        seconds = min(num_samples, self.window) / self.sample_rate
        return min(math.ceil(TOKENS_PER_S * seconds) + EXTRA_TOKENS, self.max_new_cap)

    def transcribe(self, samples: np.ndarray) -> Hypothesis:
        return self.transcribe_batch([samples])[0]

    @torch.inference_mode()
    def transcribe_batch(self, batch: list[np.ndarray]) -> list[Hypothesis]:
        batch = [np.ascontiguousarray(s, dtype=np.float32) for s in batch]
        for samples in batch:
            if samples.ndim != 1:
                raise ValueError(f"expected mono samples (1-D), got shape {samples.shape}")
        out: dict[int, Hypothesis] = {}
        short = [i for i, s in enumerate(batch) if len(s) <= self.window]
        for i, samples in enumerate(batch):
            if len(samples) > self.window:
                out[i] = self._long(samples)
        if self.batched and short:
            for i, hyp in zip(short, self._short([batch[i] for i in short]), strict=True):
                out[i] = hyp
        else:
            for i in short:
                out[i] = self._short([batch[i]])[0]
        return [out[i] for i in range(len(batch))]

    # --- generation -------------------------------------------------------------------------

    def _features(self, batch: list[np.ndarray], **kwargs) -> dict:
        features = self.feature_extractor(batch, sampling_rate=self.sample_rate,
                                          return_tensors="pt", return_attention_mask=True,
                                          **kwargs)
        dtype = next(self.net.parameters()).dtype
        name = self.net.main_input_name
        inputs = {name: features[name].to(device=self.device, dtype=dtype)}
        if "attention_mask" in features:
            inputs["attention_mask"] = features["attention_mask"].to(self.device)
        return inputs

    def _short(self, batch: list[np.ndarray]) -> list[Hypothesis]:
        bounds = [self.max_new_tokens(len(s)) for s in batch]
        kwargs = {"num_beams": self.beam_size, "do_sample": False,
                  "max_new_tokens": max(bounds), "return_dict_in_generate": True}
        if self.beam_size == 1 and len(set(bounds)) > 1:
            kwargs["stopping_criteria"] = _stopping_per_row(bounds, self.device)
        if self.word_times:
            kwargs["return_token_timestamps"] = True
        out = self.net.generate(**self._features(batch), **kwargs)
        sequences = out["sequences"].cpu()
        times = out.get("token_timestamps") if self.word_times else None
        return [self._hypothesis(sequences[row].tolist(),
                                 None if times is None else times[row].tolist())
                for row in range(len(batch))]

    def _long(self, samples: np.ndarray) -> Hypothesis:
        if not self.is_whisper:
            texts = [self._short([samples[start : start + self.window]])[0].text
                     for start in range(0, len(samples), self.window)]
            text = " ".join(t for t in texts if t)
            return Hypothesis(text=text, words=[HypWord(word=w) for w in text.split()])
        inputs = self._features([samples], truncation=False, padding="longest")
        out = self.net.generate(
            **inputs, num_beams=self.beam_size, do_sample=False, return_timestamps=True,
            return_segments=True, return_dict_in_generate=True, condition_on_prev_tokens=False,
            max_new_tokens=self.max_new_tokens(self.window),
            return_token_timestamps=self.word_times,
        )
        segments = out["segments"][0]
        tokens = [t for seg in segments for t in seg["tokens"].tolist()]
        times = None
        if self.word_times and segments and all("token_timestamps" in s for s in segments):
            times = [t for seg in segments for t in seg["token_timestamps"].tolist()]
        if not segments:
            tokens = out["sequences"][0].tolist()
        return self._hypothesis(tokens, times)

    # --- tokens to words ----------------------------------------------------------------------

    def _hypothesis(self, ids: list[int], times: list[float] | None) -> Hypothesis:
        """Words of a token sequence: a piece marked as a word start begins a new word.

        Special and timestamp tokens are dropped (and end a word); `times[i]` is the end of
        token i (transformers' Whisper token timestamps), ignored unless it has one per token.
        """
        if times is not None and len(times) != len(ids):
            times = None
        groups: list[list[int]] = []
        broken = True
        for k, token in enumerate(ids):
            if token in self.special or (self.first_timestamp is not None
                                         and token >= self.first_timestamp):
                broken = True
                continue
            piece = self.tokenizer.convert_ids_to_tokens(token) or ""
            if broken or piece.startswith(WORD_STARTS):
                groups.append([])
            groups[-1].append(k)
            broken = False
        words = []
        for group in groups:
            text = self.tokenizer.decode([ids[k] for k in group]).strip()
            if not text:
                continue
            start = end = None
            if times is not None:
                start = float(times[group[0] - 1]) if group[0] > 0 else 0.0
                end = float(times[group[-1]])
            words.extend(_split_on_spaces(text, start, end))
        return Hypothesis(text=" ".join(w.word for w in words), words=words)


def _split_on_spaces(text: str, start: float | None, end: float | None) -> list[HypWord]:
    """One HypWord per whitespace-separated part (a piece may hold several); the span is
    shared by them only when there is one part, otherwise the parts get no times."""
    parts = text.split()
    if len(parts) == 1:
        return [HypWord(word=parts[0], start_s=start, end_s=end)]
    return [HypWord(word=part) for part in parts]


def _stopping_per_row(bounds: list[int], device: torch.device):
    """A StoppingCriteria that ends row r once it has bounds[r] new tokens (greedy search)."""
    from transformers import StoppingCriteria, StoppingCriteriaList

    limits = torch.tensor(bounds, device=device)

    class _PerRowMaxNewTokens(StoppingCriteria):
        def __init__(self):
            self.prompt = None

        def __call__(self, input_ids, scores, **kwargs):
            if self.prompt is None:  # first call: one token generated after the prompt
                self.prompt = input_ids.shape[1] - 1
            done = torch.full((input_ids.shape[0],), input_ids.shape[1] - self.prompt,
                              device=input_ids.device) >= limits.to(input_ids.device)
            return done

    return StoppingCriteriaList([_PerRowMaxNewTokens()])
