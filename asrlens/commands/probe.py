"""`asrlens probe`: what a recognizer writes on non-speech audio (asrlens.pipeline.probe)."""

from __future__ import annotations

from pathlib import Path

import click

from asrlens import defaults
from asrlens.commands.common import (
    db_option,
    echo_lines,
    infer_options,
    open_database,
    progress_option,
)


@click.command("probe")
@infer_options
@click.option("--out", "folder", default="asrlens-probe", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder the clips are written to (the 'probe' dataset's root).")
@click.option("--seed", type=int, default=defaults.SEED, show_default=True,
              help="Seeds the clips' noise (the same seed writes the same audio).")
@click.option("--clips", "clips_per_kind", type=click.IntRange(min=1), default=1,
              show_default=True, help="Clips of each kind.")
@progress_option
@db_option
def probe_command(infer_settings, folder, seed, clips_per_kind, progress, db_path):
    """Transcribe non-speech clips and count what the recognizer writes.

    \b
    Makes seeded 10 s clips of digital silence, low white noise, low pink
    noise, a tone and speech-shaped noise (docs/analyze.md "Probes"),
    ingests them as the dataset 'probe' (empty references), transcribes
    them as a normal run (default name probe-ENGINE), analyses it and
    prints characters written per minute per clip kind: a clean recognizer
    writes 0. The figures are in the view probe_results.

    \b
    Examples:
      asrlens probe --engine pocketsphinx
      asrlens probe --engine wav2vec2 --model WAV2VEC2_ASR_BASE_960H
      asrlens sql "select * from probe_results"
    """
    from asrlens.pipeline import probe

    with open_database(db_path, create=True) as engine:  # probe ingests its own dataset
        result = probe(engine, settings=infer_settings, folder=folder, seed=seed,
                       clips_per_kind=clips_per_kind, progress=progress)
    echo_lines(result.lines())
