"""The rows `ingest` stores for a dataset: datasets, utterances, audio_files, ingest_issues,
utterance_labels (asrlens/schema.sql), built from the parsed labels, the matched audio and
the facts read from each file.
"""

from __future__ import annotations

import os
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

from asrlens.ingest.audio_stats import AudioFacts
from asrlens.ingest.labels import AUDIO_SUFFIXES, LABEL_FILE_NAMES, Label, ParsedLabels
from asrlens.ingest.matching import _candidates
from asrlens.ingest.source import Source

FACT_COLUMNS = tuple(f.name for f in fields(AudioFacts) if f.name not in ("problem", "message"))
"""audio_files columns that come from reading the file (the rest: dataset, utt_id)."""


def _audio_rows(
    dataset: str, reuse: list[dict], facts: list[AudioFacts], claimed: dict[str, str]
) -> list[dict]:
    rows = [dict(row) for row in reuse]
    rows += [{column: getattr(f, column) for column in FACT_COLUMNS} for f in facts]
    for row in rows:
        row["dataset"] = dataset
        row["utt_id"] = claimed.get(row["path"])
    return sorted(rows, key=lambda r: r["path"])


def _dataset_row(src: Source, labels_rel: str | None, parsed: ParsedLabels, n_audio: int) -> dict:
    return dict(
        name=src.name,
        source=os.fspath(src.source),
        root=os.fspath(src.root),
        labels_path=labels_rel,
        labels_format=parsed.format,
        n_labels=len(parsed.labels),
        n_audio=n_audio,
        ingested_at=datetime.now(UTC).replace(tzinfo=None),
    )


def _utterance_rows(
    dataset: str, labels: list[Label], matched: list[tuple[Label, str]]
) -> list[dict]:
    audio_of = {label.utt_id: path for label, path in matched}
    return [
        dict(dataset=dataset, utt_id=label.utt_id, transcript=label.transcript,
             normalized_transcript=label.normalized_transcript,
             audio_path=audio_of.get(label.utt_id), labels_line=label.line,
             speaker=label.speaker)
        for label in labels
    ]


def _label_rows(dataset: str, labels: list[Label]) -> list[dict]:
    """utterance_labels rows: the extra columns of each label (a file with a header)."""
    return [dict(dataset=dataset, utt_id=label.utt_id, name=name, value=value)
            for label in labels for name, value in label.extra]


def _issue_rows(
    src: Source, labels_rel: str | None, parsed: ParsedLabels, missing: list[Label],
    claimed: dict[str, str], audio: list[str], facts: list[AudioFacts], unsafe_links: list[str],
    *, refused: set[str] = frozenset(), outside: list[str] = (),
) -> list[dict]:
    """`refused`: utt ids whose audio a layout issue already refused (no missing_audio);
    `outside`: absolute audio paths outside the dataset, read under --allow-outside-paths."""
    def issue(kind, message, *, utt_id=None, path=None, line=None):
        return dict(dataset=src.name, kind=kind, utt_id=utt_id, path=path, line=line,
                    message=message)

    rows = [issue(i.kind, i.message, path=i.path) for i in src.issues]
    if parsed.format is None:
        rows.append(issue("no_labels", f"no labels file in {src.root} (looked for "
                          f"{', '.join(LABEL_FILE_NAMES)}); pass --labels FILE"))
    rows += [issue(i.kind, i.message, utt_id=i.utt_id, path=i.path or labels_rel,
                   line=i.line or None) for i in parsed.issues]
    for label in missing:
        if label.utt_id in refused:
            continue
        expected = _candidates(label)[0]
        rows.append(issue("missing_audio", f"{label.file or labels_rel} line {label.line}: no "
                          f"audio for {label.utt_id!r} (looked for {expected}"
                          f"{'' if label.audio_hint else ' and other extensions'})",
                          utt_id=label.utt_id, path=expected, line=label.line))
    rows += [issue("outside_path", f"{path}: outside the dataset folder, read because of "
                   "--allow-outside-paths", path=path) for path in outside if path in claimed]
    rows += [issue("unlabelled_audio", f"{path}: no label refers to this file", path=path)
             for path in audio if path not in claimed]
    rows += [issue(f.problem, f.message, utt_id=claimed.get(f.path), path=f.path)
             for f in facts if f.problem]
    rows += [issue("unsafe_path", f"{path}: symbolic link to a file outside the dataset "
                   "folder; not read", path=path) for path in unsafe_links]
    return rows


def _non_finite_issues(dataset: str, audio_rows: list[dict]) -> list[dict]:
    """A `non_finite_samples` issue for each file holding NaN or infinite samples."""
    rows = []
    for row in audio_rows:
        bad = row.get("non_finite_samples")
        if not bad:
            continue
        total = (row["frames"] or 0) * (row["channels"] or 0)
        kept = ("levels and silence are measured on the other samples" if bad < total
                else "no level can be measured")
        rows.append(dict(dataset=dataset, kind="non_finite_samples", utt_id=row["utt_id"],
                         path=row["path"], line=None,
                         message=f"{row['path']}: {bad} of {total} samples are not finite "
                         f"numbers (NaN or infinity); {kept}, and the recognizer hears them "
                         "as silence"))
    return rows


def _nothing_usable(src: Source, labels_file: Path | None, parsed: ParsedLabels,
                    audio: list[str]) -> str:
    if labels_file is None:
        labels_part = f"no labels file ({', '.join(LABEL_FILE_NAMES)})"
    else:
        n = len(parsed.issues)
        labels_part = f"no usable line in {labels_file} ({n} problem{'s' * (n != 1)})"
    audio_part = (f"none of the {len(audio)} audio files could be decoded" if audio
                  else f"no audio files ({', '.join(AUDIO_SUFFIXES)})")
    return f"nothing usable in {src.source}: {labels_part} and {audio_part}"
