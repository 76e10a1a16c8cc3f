"""Reading audio: soundfile decodes, channels are averaged, torchaudio resamples."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch
import torchaudio.functional as F

from asrlens.audio import load_audio, resample
from asrlens.errors import AsrlensError


def test_stereo_is_mixed_down_to_the_mean_of_its_channels(tmp_path):
    left = np.linspace(-0.5, 0.5, 800, dtype=np.float32)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, np.zeros_like(left)], axis=1), 8000, subtype="FLOAT")
    mono, rate = load_audio(path)
    assert rate == 8000 and mono.shape == (800,) and mono.dtype == np.float32
    np.testing.assert_allclose(mono, left / 2, atol=1e-7)
    both, _ = load_audio(path, mono=False)
    assert both.shape == (800, 2)


def test_resampling_equals_torchaudio_functional_resample(sample_dir):
    samples, rate = load_audio(sample_dir / "wavs" / "LJ001-0002.wav")
    expected = F.resample(torch.from_numpy(samples), rate, 16000).numpy()
    for _ in range(2):  # the second call reuses the cached kernel
        got = resample(samples, rate, 16000)
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, atol=1e-4)
    loaded, new_rate = load_audio(sample_dir / "wavs" / "LJ001-0002.wav", sample_rate=16000)
    assert new_rate == 16000 and loaded.shape == expected.shape


def test_an_undecodable_file_is_an_error_naming_it(tmp_path):
    path = tmp_path / "noise.wav"
    path.write_bytes(b"RIFF not really a wav file")
    with pytest.raises(AsrlensError, match="noise.wav"):
        load_audio(path)
