"""`asrlens ingest` (asrlens/ingest)."""

from __future__ import annotations

from pathlib import Path

import click

from asrlens.commands.common import db_option, echo_lines, ingest_options, progress_option


@click.command("ingest")
@click.argument("dataset", type=click.Path(path_type=Path))
@ingest_options
@progress_option
@db_option
def ingest_command(dataset, ingest_settings, progress, db_path):
    """Load DATASET (a folder, a .zip of one, or a manifest file) into the database.

    \b
    Layouts (--layout auto recognises them; docs/ingest.md):
      ljspeech     wavs/ + labels.csv (below)
      librispeech  SPEAKER/CHAPTER/*.trans.txt + .flac
      commonvoice  test.tsv / validated.tsv + clips/
      nemo         a JSON-lines manifest (audio_filepath, text, duration[, offset])
      kaldi        wav.scp + text [+ utt2spk, segments]; commands in wav.scp are refused
      parquet      Hugging Face parquet (audio bytes + text), decoded in memory
      csv          a .csv/.tsv with path and text columns
    Speakers (--speaker-column, utt2spk, client_id, ...) go to utterances.speaker,
    every other column or key to utterance_labels (--group-by label:NAME).

    \b
    LJSpeech: wavs/ and a labels file: `id|transcript|normalized`
    (no header, quotes are text) or a CSV/TSV whose header names an id or path
    column (id, utt_id, path, file, wav_filename, ...) and a text column
    (transcript, text, sentence, ...). Each label's audio is wavs/<id>.wav
    (or .flac/.ogg/.mp3). Every audio file is read once, in parallel: format,
    rate, channels, duration, sha256, peak/RMS level, clipping and silence.
    A .zip is extracted next to the database, in .asrlens/datasets/<name>/,
    after its declared sizes are checked against the --zip-max-* limits and the
    free disk space (a zip bomb is refused before anything is written).

    \b
    Running it again is cheap and safe: unchanged files are not re-read,
    changed ones are updated, nothing is duplicated. Problems (labels without
    audio, bad lines, corrupt audio, ...) are kept in the ingest_issues table;
    the command fails only when nothing usable is found.

    \b
    Examples:
      asrlens ingest ../shared/data/ljspeech-sample
      asrlens ingest speechdata.zip --db speech.duckdb
      asrlens ingest corpus/ --labels corpus/train.tsv --name corpus-train
      asrlens ingest LibriSpeech/test-clean
      asrlens ingest data/test_manifest.json --allow-outside-paths
      asrlens sql "select kind, count(*) from ingest_issues group by kind"
    """
    from asrlens.ingest import ingest_into

    summary = ingest_into(db_path, dataset, progress=progress, **ingest_settings.ingest_kwargs())
    echo_lines(summary.summary_lines(db_path))
