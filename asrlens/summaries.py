"""The lines a command prints after a stage, as the stage's result object gives them:

    summary.summary_lines(db_path)   # IngestSummary: utterances, hours, issues, files read
    result.summary_lines()           # RunResult, ImportResult, AnalysisResult

Plain text, one list item per line; the CLI only echoes them. Kept apart from the stages so
that their modules stay about the work, and so the wording of all of them is in one place.
"""

from __future__ import annotations

from pathlib import Path

MAX_LISTED = 10
"""Failed files or import issues listed one per line; the rest: a query to see them."""


def pct(value) -> str:
    """A fraction as a percentage with one decimal: 0.2612 -> '26.1%'; None -> '-'."""
    return "-" if value is None else f"{100 * value:.1f}%"


def ingest_lines(summary, db_path: str | Path) -> list[str]:
    """After `asrlens ingest`: utterances, with audio, hours, issues by kind, files read."""
    issues = ", ".join(f"{kind} {n}" for kind, n in summary.issues_by_kind.items()) or "none"
    lines = [
        f"Dataset {summary.dataset} (root {summary.root})",
        f"  layout: {summary.layout} (labels {summary.labels_path or 'none'}), speakers: "
        f"{summary.speakers or 'not given'}",
        f"  utterances: {summary.utterances} ({summary.with_audio} with audio, "
        f"{summary.labels_without_audio} without)",
        f"  audio files: {summary.audio_files} ({summary.audio_without_labels} without a label)",
        f"  hours: {summary.hours:.3f} labelled audio ({summary.audio_hours:.3f} in all files)",
        f"  issues: {issues}",
        f"  files read: {summary.files_read}, unchanged and skipped: {summary.files_skipped}, "
        f"new: {summary.files_new}, updated: {summary.files_updated}, "
        f"removed: {summary.files_removed} ({summary.seconds:.1f} s)",
    ]
    if summary.labels_path is None:
        lines.append("  no labels file found (labels.csv, metadata.csv, labels.tsv, ...): infer "
                     "and explore need one; name it with --labels FILE")
    if summary.changed:
        lines.append(f"Stored in {db_path}. See: asrlens sql \"select kind, path, line, "
                     f"message from ingest_issues where dataset = '{summary.dataset}'\"")
    else:
        lines.append(f"{db_path} already held exactly this: nothing changed.")
    return lines


def run_lines(result, *, max_failed: int = MAX_LISTED) -> list[str]:
    """After `asrlens infer`: run status, corpus rates, and the files that failed."""
    if result.already_finished:
        head = f"run {result.run_id} is already finished: nothing redone"
    else:
        head = (f"run {result.run_id}: {result.status} ({result.files_done} files transcribed "
                f"now, {result.files_failed} failed, {result.files_skipped} done before)")
    rtf = "-" if result.real_time_factor is None else f"{result.real_time_factor:.3f}"
    lines = [
        head,
        f"  {result.files_scored} of {result.files_total} files scored, "
        f"{result.audio_s / 3600:.3f} h of audio in {result.wall_s:.1f} s (real-time factor "
        f"{rtf})",
        f"  WER {pct(result.wer)}  MER {pct(result.mer)}  WIL {pct(result.wil)}  "
        f"CER {pct(result.cer)}",
        f"  strict WER {pct(result.strict_wer)} (failed files' words as deletions)  "
        f"raw WER {pct(result.raw_wer)} (case and punctuation only)",
    ]
    if result.files_rescored:
        lines.append(f"  rescored {result.files_rescored} files whose reference changed since "
                     "they were transcribed (stored hypotheses, no new recognition)")
    if result.files_unusable:
        lines.append(f"  {result.files_unusable} files not transcribed: ingest found their "
                     "audio corrupt or empty (see asrlens sql \"select * from ingest_issues\")")
    if result.failed:
        retried = ("retried when the run is resumed" if not result.files_unusable else
                   "retried when the run is resumed, unless ingest found the audio unusable")
        lines.append(f"  {len(result.failed)} failed files ({retried}):")
        lines += [f"    {utt_id}: {error}" for utt_id, error in result.failed[:max_failed]]
        if len(result.failed) > max_failed:
            lines.append(f"    ... see: asrlens sql \"select utt_id, error from transcripts "
                         f"where run_id = '{result.run_id}' and error is not null\"")
    return lines


def import_lines(result, *, max_issues: int = MAX_LISTED) -> list[str]:
    """After `asrlens import-run`: what was matched, the corpus rates, and the lines or files
    that could not be used."""
    matched = ", ".join(f"{n} by {how}" for how, n in result.matched_by.items())
    lines = [
        f"run {result.run_id}: imported {result.lines} {result.fmt} lines from {result.path} "
        f"({matched})",
        f"  {result.files_scored} of {result.files_total} files of {result.dataset} scored, "
        f"{result.files_without_hypothesis} without a hypothesis",
        f"  WER {pct(result.wer)} over scored files, strict WER {pct(result.strict_wer)}, "
        f"raw WER {pct(result.raw_wer)}",
    ]
    counts = result.issue_counts  # result.issues lists only the first ones
    if counts:
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))
        lines.append(f"  {sum(counts.values())} issues ({kinds}):")
        for issue in result.issues[:max_issues]:
            where = f"line {issue.line}" if issue.line else issue.key
            lines.append(f"    {issue.kind} {where}: {issue.message}")
        if sum(counts.values()) > max_issues:
            lines.append(f"    ... see: asrlens sql \"select * from import_issues where "
                         f"run_id = '{result.run_id}'\"")
    return lines


def analysis_lines(result) -> list[str]:
    """After `asrlens analyze`: the run, its counts and tags, then the written summary."""
    tags = ", ".join(f"{tag} {n}" for tag, n in result.tag_counts.items()) or "none"
    return [f"Analysed run {result.run_id} (dataset {result.dataset}): "
            f"{result.utterances} labels, {result.files_scored} scored files, "
            f"{result.errors} errors; tags: {tags}.", "", *result.summary]


def analysis_after_line(result) -> str:
    """After infer or import-run analysed the run they stored: one line."""
    return (f"analysed: {sum(result.tag_counts.values())} error tags; "
            f"the summary: asrlens analyze --run {result.run_id}")
