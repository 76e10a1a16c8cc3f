"""Greedy CTC decoding: the best class per frame, repeats collapsed, blanks dropped.

The emission matrix of a CTC model (wav2vec2, HuBERT) holds one score per output class per
frame. Greedy decoding takes the best class in every frame (the "argmax path"), merges runs
of the same class, drops the blank class, and reads the word separator (`|`) as a break
between words. A blank between two equal classes keeps both (`A - A` reads "AA").

From the same path each word also gets a time span and a confidence:

- start_s = index of the word's first character frame x frame_s;
  end_s = (index of its last character frame + 1) x frame_s;
- confidence = mean posterior probability (softmax of the emission row) of the path's class
  over the word's frames, from its first to its last character frame inclusive (blank frames
  inside the word count; the blank and separator frames around it do not).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from asrlens.infer.recognizers.base import Hypothesis, HypWord

DEFAULT_FRAME_S = 0.02  # seconds per emission frame: 320 samples at 16 kHz for wav2vec2/HuBERT


def greedy_decode(emission, labels: Sequence[str], **options) -> Hypothesis:
    """Decode one file's emissions (frames x classes) along the argmax path.

    `emission` is a 2-D array or torch tensor of logits or log-probabilities (the posterior is
    recomputed with a softmax over classes, which gives the same result for both); a leading
    batch axis of size 1 is accepted. `labels[i]` is the text of class i. The keyword
    `options` are decode_path's: `blank` (index of the blank class, 0), `word_sep` (the label
    that separates words, "|"), `frame_s` (the frame hop in seconds) and `time_offset_s`
    (added to every word time).

    Returns a Hypothesis whose text is the words joined by single spaces (empty when the path
    holds only blanks and separators) and whose words carry start/end seconds and confidence.
    """
    scores = _as_2d_float(emission)
    if scores.shape[1] != len(labels):
        raise ValueError(
            f"emission has {scores.shape[1]} classes but {len(labels)} labels were given"
        )
    if scores.shape[0] == 0:
        return Hypothesis(text="")
    path = scores.argmax(axis=1)
    return decode_path(path, _path_posterior(scores, path), labels, **options)


def decode_path(
    path: np.ndarray,
    path_prob: np.ndarray,
    labels: Sequence[str],
    *,
    blank: int = 0,
    word_sep: str = "|",
    frame_s: float = DEFAULT_FRAME_S,
    time_offset_s: float = 0.0,
) -> Hypothesis:
    """Read an argmax path (class index per frame) and its posteriors as words, vectorised.

    What greedy_decode does after its argmax, with numpy over all frames at once (no Python
    loop over frames), so a batch's paths can be computed on the device and only the path and
    its posteriors copied back. `path_prob[i]` is the posterior of class path[i] in frame i.
    """
    path = np.asarray(path, dtype=np.int64).reshape(-1)
    prob = np.asarray(path_prob, dtype=np.float64).reshape(-1)
    if path.size == 0:
        return Hypothesis(text="")
    sep = labels.index(word_sep) if word_sep in labels else -1
    is_char = (path != blank) & (path != sep)
    previous = np.concatenate(([-1], path[:-1]))
    emitted = np.flatnonzero(is_char & (path != previous))  # a new character starts here
    if emitted.size == 0:
        return Hypothesis(text="")
    segment = np.cumsum(path == sep)  # words are the runs between separators
    char_frames = np.flatnonzero(is_char)
    # every character frame of a segment follows an emitted one in it (same class runs on)
    word_of_emitted = segment[emitted]
    starts = np.flatnonzero(np.diff(word_of_emitted, prepend=-1))
    first = emitted[starts]
    char_segments = segment[char_frames]
    last = char_frames[np.flatnonzero(np.diff(char_segments, append=char_segments[-1] + 1))]
    spans = np.empty(2 * len(first), dtype=np.int64)
    spans[0::2], spans[1::2] = first, last + 1
    means = np.add.reduceat(np.append(prob, 0.0), spans)[0::2] / (last + 1 - first)
    letters = [labels[token] for token in path[emitted].tolist()]
    bounds = [*starts.tolist(), len(letters)]
    words = [
        HypWord(
            word="".join(letters[bounds[i] : bounds[i + 1]]),
            start_s=time_offset_s + int(first[i]) * frame_s,
            end_s=time_offset_s + (int(last[i]) + 1) * frame_s,
            confidence=float(means[i]),
        )
        for i in range(len(first))
    ]
    return Hypothesis(text=" ".join(w.word for w in words), words=words)


def _as_2d_float(emission) -> np.ndarray:
    """A (frames, classes) float64 numpy array from a numpy array or torch tensor."""
    if hasattr(emission, "detach"):
        emission = emission.detach().float().cpu().numpy()
    scores = np.asarray(emission, dtype=np.float64)
    if scores.ndim == 3 and scores.shape[0] == 1:
        scores = scores[0]
    if scores.ndim != 2:
        raise ValueError(f"emission must be frames x classes, got shape {scores.shape}")
    return scores


def _path_posterior(scores: np.ndarray, path: np.ndarray) -> np.ndarray:
    """Softmax probability of the chosen class in every frame."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(shifted)
    probs /= probs.sum(axis=1, keepdims=True)
    return probs[np.arange(len(path)), path]
