"""The words asrlens shows for the names it stores: feature columns and error tags.

    FEATURES["words_per_s"]           # 'speaking rate (words/s)'
    TAG_DESCRIPTIONS["rare_word"]     # one-line definition of the tag

Below every stage: analysis computes the features and tags under these names, the report and
the CLI show them with these words; neither imports the other for it.
"""

from __future__ import annotations

FEATURES: dict[str, str] = {
    "duration_s": "duration (s)",
    "ref_words": "reference words",
    "words_per_s": "speaking rate (words/s)",
    "chars_per_s": "speaking rate (letters/s)",
    "rms_dbfs": "level (RMS dBFS)",
    "silence_fraction": "silence (fraction of frames)",
    "clipped_fraction": "clipping (fraction of samples)",
    "n_digits": "digits in the transcript",
    "n_abbreviations": "abbreviations",
    "norm_differs": "normalized text differs from raw (1 = yes)",
    "n_proper_nouns": "proper nouns",
    "n_rare_words": "rare words",
    "n_hyphenated": "hyphenated words",
}
"""Feature column of utterance_features -> label with its unit, in display order."""

TAG_DESCRIPTIONS: dict[str, str] = {
    "normalization": "the reference word was a number or abbreviation in the raw transcript",
    "proper_noun": "the reference word is capitalised mid-sentence in the raw transcript",
    "rare_word": "the reference word occurs at most twice in the dataset's labels",
    "compound": "a split or merge: the letters match once spaces are removed",
    "near_homophone": "a spelling variant or similar-sounding word (small edit distance)",
    "function_word": "a function word (the, of, and, ...) was dropped, added or replaced",
    "edge": "the error touches the first or last word of the utterance",
}
"""Tag name -> one-line definition, for the report and the CLI."""
