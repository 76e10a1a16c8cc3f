"""`asrlens explore` (asrlens/explore)."""

from __future__ import annotations

from pathlib import Path

import click

from asrlens import defaults
from asrlens.commands.common import dataset_option, db_option, device_option, open_database


@click.command("explore")
@dataset_option
@click.option("--seed", type=int, help="Seed of the random choice; the same seed picks the "
              "same file again. Without --seed or --utt one is drawn and printed.")
@click.option("--utt", "utt_id", metavar="ID", help="Look at this utterance, e.g. LJ001-0001.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=defaults.EXPLORE_OUT_DIR, show_default=True,
              help="Folder for the PNG figures.")
@click.option("--wav2vec2/--no-wav2vec2", default=True, show_default=True,
              help="Also draw the wav2vec2 features and emissions (needs the model weights).")
@click.option("--model", default=defaults.EXPLORE_MODEL, show_default=True,
              help="torchaudio bundle for the wav2vec2 views: WAV2VEC2_ASR_BASE_960H, "
                   "WAV2VEC2_ASR_LARGE_960H, WAV2VEC2_ASR_LARGE_LV60K_960H, HUBERT_ASR_LARGE "
                   "or HUBERT_ASR_XLARGE.")
@click.option("--checkpoint", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Weights file for --model (offline machines); default: the torch hub cache.")
@click.option("--layers", metavar="LIST",
              help="Transformer layers to draw, 1-based: '1,6,12' or 'all' "
                   "[default: first, middle and last].")
@device_option
@db_option
def explore_command(dataset, seed, utt_id, out_dir, wav2vec2, model, checkpoint, layers, device,
                    db_path):
    """Look at one ingested file: its shape, waveform, spectrogram, MFCC, wav2vec2 view.

    Picks a file with readable audio at random (or --utt ID), prints its shape
    (channels, frames), sample rate and duration, and writes to --out: waveform.png,
    spectrogram.png (dB; seconds and Hz), mfcc.png and, with the model's weights,
    features.png (transformer layers) and emissions.png (class per frame, greedy path).
    Multi-channel files: one waveform panel per channel; the other views use the mix.

    \b
    Examples:
      asrlens explore                        # a random file; prints the seed it used
      asrlens explore --seed 7 --out look/   # the same file again with the same seed
      asrlens explore --utt LJ001-0001 --layers all
      asrlens explore --checkpoint wav2vec2_fairseq_base_ls960_asr_ls960.pth
      asrlens explore --no-wav2vec2          # audio plots only, no model
    """
    from asrlens.explore import explore
    from asrlens.explore.wav2vec2_view import parse_layers

    with open_database(db_path, read_only=True) as engine:
        result = explore(
            engine, out_dir=out_dir, dataset=dataset, seed=seed, utt_id=utt_id,
            wav2vec2=wav2vec2, model=model, checkpoint=checkpoint,
            layers=parse_layers(layers), device=None if device == defaults.DEVICE else device,
            on_step=click.echo,
        )
    if result.wav2vec2_transcript is not None:
        click.echo(f"{result.model} greedy transcript: {result.wav2vec2_transcript}")
    if result.skipped:
        click.echo(f"wav2vec2 views skipped: {result.skipped}")
