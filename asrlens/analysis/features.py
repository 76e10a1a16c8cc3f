"""Per-utterance features that plausibly explain errors (table `utterance_features`).

Audio features come from ingest (`audio_files`); text features from the labels: the raw
transcript for digits, abbreviations, proper nouns and hyphens, the normalized transcript
(the raw one when there is none) for word counts, speaking rate and rare words.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from asrlens.analysis import text

RARE_MAX_COUNT = 2
"""A word is rare when it occurs at most this many times over all labels of the dataset
(labels without audio included). Over LJSpeech's 13,100 labels that singles out names and
unusual words; over a 100-label sample most content words are rare, so read it with care."""


def reference_text(row: Mapping) -> str:
    """The text word-level features count: the normalized transcript, else the raw one."""
    return row.get("normalized_transcript") or row.get("transcript") or ""


def word_frequencies(rows: Iterable[Mapping]) -> Counter:
    """How often each word key occurs over the reference texts of all `rows` (one per label)."""
    counts: Counter = Counter()
    for row in rows:
        counts.update(text.word_keys(reference_text(row)))
    return counts


def rare_keys(keys: Iterable[str], frequencies: Mapping[str, int]) -> set[str]:
    """The keys among `keys` that occur at most RARE_MAX_COUNT times in the dataset."""
    return {k for k in keys if frequencies.get(k, 0) <= RARE_MAX_COUNT}


def text_features(
    raw: str | None, normalized: str | None, *, frequencies: Mapping[str, int]
) -> dict:
    """Text features of one label: counts over the raw transcript and the reference words."""
    keys = text.word_keys(normalized or raw)
    rare = rare_keys(keys, frequencies)
    differs = normalized is not None and text.word_keys(raw) != text.word_keys(normalized)
    return {
        "ref_words": len(keys),
        "ref_chars": sum(len(k) for k in keys),
        "n_digits": text.digit_count(raw),
        "n_abbreviations": text.abbreviation_count(raw),
        "norm_differs": differs,
        "n_proper_nouns": len(text.proper_noun_tokens(raw)),
        "n_rare_words": sum(1 for k in keys if k in rare),
        "n_hyphenated": len(text.hyphenated_tokens(raw)),
    }


def utterance_features(
    rows: list[Mapping], *, dataset: str, frequencies: Mapping[str, int] | None = None
) -> list[dict]:
    """One `utterance_features` row per label row.

    Each row holds utt_id, transcript, normalized_transcript and the audio statistics
    duration_s (seconds), rms_dbfs, silence_fraction, clipped_fraction (None without audio).
    Rates are per second of audio: words_per_s, chars_per_s (None without a duration).
    `frequencies` (word_frequencies of the same rows) is computed when not given.
    """
    if frequencies is None:
        frequencies = word_frequencies(rows)
    out = []
    for row in rows:
        feats = text_features(
            row.get("transcript"), row.get("normalized_transcript"), frequencies=frequencies
        )
        duration = row.get("duration_s")
        has_duration = duration is not None and duration > 0
        out.append({
            "dataset": dataset,
            "utt_id": row["utt_id"],
            "duration_s": duration,
            **feats,
            "words_per_s": feats["ref_words"] / duration if has_duration else None,
            "chars_per_s": feats["ref_chars"] / duration if has_duration else None,
            "rms_dbfs": row.get("rms_dbfs"),
            "silence_fraction": row.get("silence_fraction"),
            "clipped_fraction": row.get("clipped_fraction"),
        })
    return out
