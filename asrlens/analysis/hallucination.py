"""Hallucinations and loops: text a recognizer wrote that nobody said (tables
`hallucination_files`, `hallucination_events`).

Four signals per file, each a pure function over the file's alignment (`tags.Op`, the
run's normalized words) and, for the silence signal, its word times and audio:

- loops (`find_loops`): an n-gram of 1 to LOOP_MAX_N words repeated LOOP_MIN_REPEATS or
  more times in a row in the hypothesis, more times in a row than the reference has it
  ("very very very" said is not a loop; "thank you thank you thank you" unsaid is);
- edge runs (`edge_runs`): EDGE_MIN_WORDS or more inserted words in a row before the first
  or after the last reference word (a file with an empty reference: all its words, once);
- length ratio (`length_outlier`): hypothesis words over reference words; 'long' when the
  ratio is at least LONG_RATIO with at least LENGTH_MIN_WORDS extra words, 'short' when at
  most SHORT_RATIO with at least LENGTH_MIN_WORDS missing;
- inserted words in silence (`silent_frames`, `in_silence`): an inserted word whose time
  span (hyp_words.start_s/end_s) lies at least SILENT_WORD_SHARE in silent frames. A frame
  of SILENCE_FRAME_S is silent when its RMS is more than SILENCE_BELOW_PEAK_DB below the
  loudest frame of the file, or below SILENCE_FLOOR_DBFS (the rule ingest's
  audio_files.silence_fraction uses, plus an absolute floor for near-silent files).

    find_loops("THANK YOU THANK YOU THANK YOU".split(), ["HELLO"])
    # [Loop(start=0, n=2, repeats=3, ref_repeats=0, text='THANK YOU')]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from asrlens.analysis.tags import Op

LOOP_MAX_N = 4
"""Longest repeated n-gram looked for, in words."""
LOOP_MIN_REPEATS = 3
"""Repeats in a row that make a loop."""
EDGE_MIN_WORDS = 4
"""Inserted words in a row at the start or end of a file that make an edge run."""
LONG_RATIO = 1.5
SHORT_RATIO = 0.5
LENGTH_MIN_WORDS = 3
"""Length-ratio outliers: hyp/ref words >= LONG_RATIO ('long') or <= SHORT_RATIO ('short'),
and at least this many words more or fewer (a 1-word reference heard as 2 is not flagged)."""
SILENCE_FRAME_S = 0.025
"""Frame length of the silence detector, seconds (as ingest's silence_fraction)."""
SILENCE_BELOW_PEAK_DB = 40.0
"""A frame is silent when its RMS is this far below the file's loudest frame..."""
SILENCE_FLOOR_DBFS = -70.0
"""...or below this level (digital silence, a near-silent file)."""
SILENT_WORD_SHARE = 0.8
"""An inserted word counts as "in silence" when at least this share of its frames are silent."""


@dataclass(frozen=True)
class Loop:
    """`repeats` copies of an n-gram in a row from hypothesis word `start`."""

    start: int          # index in the hypothesis words
    n: int              # words in the repeated n-gram
    repeats: int        # copies in a row in the hypothesis
    ref_repeats: int    # most copies in a row of the same n-gram in the reference
    text: str           # the n-gram

    @property
    def words(self) -> int:
        """Words the loop spans in the hypothesis."""
        return self.n * self.repeats

    @property
    def extra_words(self) -> int:
        """Words beyond what the reference repeats."""
        return self.n * (self.repeats - self.ref_repeats)


def _repeats_at(words: Sequence[str], i: int, n: int) -> int:
    gram = list(words[i:i + n])
    if len(gram) < n:
        return 0
    k = 1
    while list(words[i + k * n:i + (k + 1) * n]) == gram:
        k += 1
    return k


def max_repeats(words: Sequence[str], gram: Sequence[str]) -> int:
    """Most copies of `gram` in a row anywhere in `words` (0 when it does not occur)."""
    n, best = len(gram), 0
    for i in range(len(words) - n + 1):
        if list(words[i:i + n]) == list(gram):
            best = max(best, _repeats_at(words, i, n))
    return best


def find_loops(hyp: Sequence[str], ref: Sequence[str]) -> list[Loop]:
    """Loops of the hypothesis words, left to right, not overlapping.

    At each position the n (1..LOOP_MAX_N) whose repeats cover the most words wins, the
    smallest n on a tie ('UM UM UM UM' is one word four times, not two words twice); the
    scan resumes after the loop. Words are compared as given (normalized words).
    """
    loops, i = [], 0
    while i < len(hyp):
        best = None
        for n in range(1, LOOP_MAX_N + 1):
            k = _repeats_at(hyp, i, n)
            if k >= LOOP_MIN_REPEATS and (best is None or n * k > best[0] * best[1]):
                best = (n, k)
        if best is None:
            i += 1
            continue
        n, k = best
        gram = hyp[i:i + n]
        ref_k = max_repeats(ref, gram)
        if k > ref_k:
            loops.append(Loop(start=i, n=n, repeats=k, ref_repeats=ref_k, text=" ".join(gram)))
        i += n * k
    return loops


def edge_runs(ops: Sequence[Op]) -> tuple[int, int]:
    """(inserted words before the first reference word, after the last one), each 0 when
    fewer than EDGE_MIN_WORDS. With no reference word at all, every word is one start run."""
    lead = 0
    while lead < len(ops) and ops[lead].op == "insert":
        lead += 1
    if lead == len(ops):
        return (lead if lead >= EDGE_MIN_WORDS else 0), 0
    tail = 0
    while ops[len(ops) - 1 - tail].op == "insert":
        tail += 1
    return (lead if lead >= EDGE_MIN_WORDS else 0), (tail if tail >= EDGE_MIN_WORDS else 0)


def length_outlier(ref_words: int, hyp_words: int) -> str | None:
    """'long', 'short' or None by the LONG_RATIO / SHORT_RATIO / LENGTH_MIN_WORDS rule; an
    empty reference with LENGTH_MIN_WORDS or more hypothesis words is 'long'."""
    if ref_words == 0:
        return "long" if hyp_words >= LENGTH_MIN_WORDS else None
    ratio = hyp_words / ref_words
    if ratio >= LONG_RATIO and hyp_words - ref_words >= LENGTH_MIN_WORDS:
        return "long"
    if ratio <= SHORT_RATIO and ref_words - hyp_words >= LENGTH_MIN_WORDS:
        return "short"
    return None


def silent_frames(samples: np.ndarray, rate: int) -> np.ndarray:
    """Boolean per SILENCE_FRAME_S frame of mono `samples`: True where the frame is silent."""
    frame = max(1, round(SILENCE_FRAME_S * rate))
    n = -(-len(samples) // frame)
    if n == 0:
        return np.zeros(0, dtype=bool)
    padded = np.zeros(n * frame, dtype=np.float64)
    padded[:len(samples)] = samples
    counts = np.full(n, frame, dtype=np.float64)
    counts[-1] = len(samples) - (n - 1) * frame
    power = (padded.reshape(n, frame) ** 2).sum(axis=1) / counts
    floor = 10 ** (SILENCE_FLOOR_DBFS / 10)
    relative = power.max() * 10 ** (-SILENCE_BELOW_PEAK_DB / 10)
    return (power < floor) | (power < relative)


def in_silence(silent: np.ndarray, start_s: float, end_s: float) -> bool:
    """Whether the span [start_s, end_s) lies at least SILENT_WORD_SHARE in silent frames.
    A span past the end of the audio counts its missing frames as silent."""
    first = int(np.floor(start_s / SILENCE_FRAME_S))
    last = max(first + 1, int(np.ceil(end_s / SILENCE_FRAME_S)))
    covered = silent[max(first, 0):min(last, len(silent))]
    beyond = max(0, last - max(first, len(silent)))
    return (covered.sum() + beyond) / (last - first) >= SILENT_WORD_SHARE


def silence_seconds(silent: np.ndarray) -> float:
    """Seconds of silent frames."""
    return float(silent.sum()) * SILENCE_FRAME_S


def word_index_map(raw_words: Sequence[str], normalized_count: int, normalize) -> list[int] | None:
    """For each normalized hypothesis word, the index of the raw word (hyp_words.word_index)
    it comes from; None when the raw words do not normalize to `normalized_count` words (the
    times cannot be placed)."""
    mapping = []
    for index, word in enumerate(raw_words):
        mapping += [index] * len(normalize(word).split())
    return mapping if len(mapping) == normalized_count else None


def file_signals(
    ops: Sequence[Op], *, keys: dict, times: Sequence[tuple | None] | None = None,
    silent: np.ndarray | None = None,
) -> tuple[dict, list[dict]]:
    """One `hallucination_files` row and its `hallucination_events` rows for one file.

    ops: the file's alignment in order; keys: {run_id, utt_id}; times: (start_s, end_s) per
    normalized hypothesis word (None: no word times, the silence signal is not checked);
    silent: `silent_frames` of the file's audio (None: not read, same effect).
    """
    ref = [o.ref_word for o in ops if o.ref_word is not None]
    hyp = [o.hyp_word for o in ops if o.hyp_word is not None]
    events: list[dict] = []

    def event(kind, hyp_pos, words, text, detail=None, timed=True):
        span = [times[p] for p in range(hyp_pos, hyp_pos + words)
                if timed and times is not None and p < len(times) and times[p] is not None]
        events.append({**keys, "event_index": len(events), "kind": kind, "hyp_pos": hyp_pos,
                       "words": words, "text": text,
                       "start_s": span[0][0] if span else None,
                       "end_s": span[-1][1] if span else None, "detail": detail})

    loops = find_loops(hyp, ref)
    for loop in loops:
        event("loop", loop.start, loop.words, loop.text,
              f"{loop.repeats} times in a row (reference: {loop.ref_repeats})")
    start, end = edge_runs(ops)
    if start:
        event("edge_start", 0, start, " ".join(hyp[:start]))
    if end:
        event("edge_end", len(hyp) - end, end, " ".join(hyp[len(hyp) - end:]))
    outlier = length_outlier(len(ref), len(hyp))
    if outlier:
        event("length_ratio", 0, len(hyp), None,
              f"{outlier}: {len(hyp)} hypothesis words for {len(ref)} reference words",
              timed=False)
    inserts = [o.hyp_pos for o in ops if o.op == "insert"]
    checked = times is not None and silent is not None
    timed = [p for p in inserts if checked and p < len(times) and times[p] is not None]
    silent_inserts = [p for p in timed if in_silence(silent, *times[p])]
    for p in silent_inserts:
        event("silence_insertion", p, 1, hyp[p])
    row = {
        **keys, "ref_words": len(ref), "hyp_words": len(hyp),
        "length_ratio": len(hyp) / len(ref) if ref else None, "length_outlier": outlier,
        "loops": len(loops), "loop_words": sum(lp.extra_words for lp in loops),
        "start_inserted": start, "end_inserted": end, "inserted": len(inserts),
        "inserted_timed": len(timed) if checked else None,
        "inserted_in_silence": len(silent_inserts) if checked else None,
        "silence_s": silence_seconds(silent) if checked else None,
        "flagged": bool(loops or start or end or outlier == "long" or silent_inserts),
    }
    return row, events
