"""Look at one ingested file: its shape, waveform, spectrogram, MFCC and wav2vec2 view.

    from asrlens.explore import explore
    result = explore(engine, seed=0, out_dir="explore")   # -> ExploreResult

The figure functions in `asrlens.explore.figures` take arrays and return matplotlib
Figures, so the HTML report draws the same pictures.
"""

from asrlens.explore.figures import (
    emissions_figure,
    features_figure,
    mfcc_figure,
    save_figure,
    spectrogram_figure,
    waveform_figure,
)
from asrlens.explore.pick import pick_utterance
from asrlens.explore.run import ExploreResult, explore

__all__ = [
    "ExploreResult",
    "emissions_figure",
    "explore",
    "features_figure",
    "mfcc_figure",
    "pick_utterance",
    "save_figure",
    "spectrogram_figure",
    "waveform_figure",
]
