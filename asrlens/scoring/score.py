"""Per-file scoring with jiwer: word and character error counts and the word alignment.

    s = score_texts("THE CAT SAT", "THE CAT SAT DOWN")
    s.insertions, s.wer, [op.op for op in s.ops]   # -> 1, 0.333..., ['equal'] * 3 + ['insert']

Both texts are already normalized (asrlens.scoring.normalize); words are split on spaces.
Character counts run on the same normalized strings and include the spaces between words,
as jiwer's CER does.

    score_texts("A B C D E", "X Y Z A B", alignment="sclite").wer   # -> 1.2 (unit: 1.0)

alignment='sclite' aligns the words with NIST sclite's costs (asrlens.scoring.align); the
character counts (CER) stay unit-cost in both modes.

Empty texts: counts are always stored (an empty reference with a 3-word hypothesis is 3
insertions, which run_summary's corpus WER includes). Rates whose denominator is zero are
None (NULL): wer and cer when the reference is empty; when both sides are empty mer is 0,
wip 1 and wil 0, as jiwer gives (nothing was said, nothing was heard). With an empty
hypothesis and a non-empty reference: wer 1, mer 1, wip 0, wil 1, cer 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import jiwer

from asrlens.errors import AsrlensError
from asrlens.scoring import rates
from asrlens.scoring.align import ALIGNMENTS, DEFAULT_ALIGNMENT, sclite_alignment


@dataclass(frozen=True)
class AlignedWord:
    """One step of the word alignment: op is 'equal', 'substitute', 'delete' or 'insert'.

    Positions are 0-based indexes into the normalized reference / hypothesis words; the
    reference side is None for an insertion, the hypothesis side None for a deletion.
    """

    op: str
    ref_word: str | None
    hyp_word: str | None
    ref_pos: int | None
    hyp_pos: int | None


@dataclass(frozen=True)
class Score:
    """Error counts and rates for one file (columns of utterance_errors) and its alignment."""

    ref_words: int
    hyp_words: int
    hits: int
    substitutions: int
    deletions: int
    insertions: int
    wer: float | None  # (S+D+I) / ref_words; None when the reference is empty
    mer: float | None  # (S+D+I) / (H+S+D+I)
    wil: float | None  # 1 - wip
    wip: float | None  # (H / ref_words) * (H / hyp_words)
    ref_chars: int  # characters of the normalized reference, spaces included
    hyp_chars: int
    char_hits: int
    char_substitutions: int
    char_deletions: int
    char_insertions: int
    cer: float | None  # (char S+D+I) / ref_chars; None when the reference is empty
    ops: list[AlignedWord] = field(default_factory=list)

    @property
    def errors(self) -> int:
        """Word errors: substitutions + deletions + insertions."""
        return self.substitutions + self.deletions + self.insertions

    def counts(self) -> dict:
        """The utterance_errors columns (everything but the alignment)."""
        return {name: getattr(self, name) for name in COUNT_COLUMNS}

    def op_rows(self, **keys) -> list[dict]:
        """The alignment as rows of alignment_ops (or raw_alignment_ops), each with `keys`
        (run_id, utt_id) and its op_index."""
        return [{**keys, "op_index": i, "op": op.op, "ref_word": op.ref_word,
                 "hyp_word": op.hyp_word, "ref_pos": op.ref_pos, "hyp_pos": op.hyp_pos}
                for i, op in enumerate(self.ops)]


COUNT_COLUMNS = tuple(f.name for f in fields(Score) if f.name != "ops")
"""The columns of utterance_errors: Score's fields in order, all but the alignment (ops)."""


def score_texts(ref_norm: str, hyp_norm: str, *, alignment: str = DEFAULT_ALIGNMENT) -> Score:
    """Score one normalized hypothesis against its normalized reference.

    alignment: 'unit' (jiwer's edit distance, every edit costs 1) or 'sclite' (substitution
    4, insertion and deletion 3, with sclite's tie-break)."""
    if alignment not in ALIGNMENTS:
        raise AsrlensError(f"unknown alignment {alignment!r}: choose one of "
                           f"{', '.join(ALIGNMENTS)}")
    words = jiwer.process_words(ref_norm, hyp_norm)
    chars = jiwer.process_characters(ref_norm, hyp_norm)
    ref, hyp = words.references[0], words.hypotheses[0]
    ref_chars, hyp_chars = len(chars.references[0]), len(chars.hypotheses[0])
    if alignment == "sclite":
        ops = [AlignedWord(op, None if i is None else ref[i], None if j is None else hyp[j], i, j)
               for op, i, j in sclite_alignment(ref, hyp)]
    else:
        ops = expand_alignment(words.alignments[0], ref, hyp)
    word_counts = _word_counts(ops, len(ref), len(hyp))
    return Score(
        **word_counts,
        ref_chars=ref_chars,
        hyp_chars=hyp_chars,
        char_hits=chars.hits,
        char_substitutions=chars.substitutions,
        char_deletions=chars.deletions,
        char_insertions=chars.insertions,
        cer=float(chars.cer) if ref_chars else None,
        ops=ops,
    )


def _word_counts(ops: list[AlignedWord], ref_words: int, hyp_words: int) -> dict:
    """Word counts and rates from an alignment, with jiwer's formulas and empty-text rules."""
    tally = {op: 0 for op in ("equal", "substitute", "delete", "insert")}
    for op in ops:
        tally[op.op] += 1
    hits, subs, dels, ins = (tally[k] for k in ("equal", "substitute", "delete", "insert"))
    counts = {"ref_words": ref_words, "hyp_words": hyp_words, "hits": hits,
              "substitutions": subs, "deletions": dels, "insertions": ins}
    wip = rates.value(rates.wip(counts))
    if wip is None:  # an empty side: 0, or 1 when nothing was said and nothing heard (jiwer)
        wip = 1.0 if not ref_words and not hyp_words else 0.0
    mer = rates.value(rates.mer(counts))
    return {**counts, "wer": rates.value(rates.wer(counts)),
            "mer": 0.0 if mer is None else mer, "wil": 1.0 - wip, "wip": wip}


def expand_alignment(
    chunks: list[jiwer.AlignmentChunk], ref: list[str], hyp: list[str]
) -> list[AlignedWord]:
    """One AlignedWord per word from jiwer's chunks (each chunk covers a run of words)."""
    ops: list[AlignedWord] = []
    for chunk in chunks:
        ref_span = range(chunk.ref_start_idx, chunk.ref_end_idx)
        hyp_span = range(chunk.hyp_start_idx, chunk.hyp_end_idx)
        if chunk.type in ("equal", "substitute"):
            if len(ref_span) != len(hyp_span):
                raise ValueError(f"jiwer gave an uneven {chunk.type} chunk: {chunk}")
            pairs = zip(ref_span, hyp_span, strict=True)
            ops.extend(AlignedWord(chunk.type, ref[i], hyp[j], i, j) for i, j in pairs)
        elif chunk.type == "delete":
            ops.extend(AlignedWord("delete", ref[i], None, i, None) for i in ref_span)
        elif chunk.type == "insert":
            ops.extend(AlignedWord("insert", None, hyp[j], None, j) for j in hyp_span)
        else:
            raise ValueError(f"unknown jiwer alignment type {chunk.type!r}")
    return ops
