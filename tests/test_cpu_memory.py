"""On CPU, a large tensor made again after being freed reuses its pages.

Each check runs in a fresh interpreter, because the setting is process-wide and the test
process may already have it. The measure is the process's minor page faults
(`resource.getrusage`): a 64 MiB tensor filled from fresh pages faults about 16,000 times.
An aligned allocation can miss a freed block of its own size (it asks for a little more), so
the first two rounds may both map fresh pages; from the fourth on, none should.

The script loads the wav2vec2 engine's module first, as a run does. Whether a freed block is
reused depends on what else sits on the heap: in a process that has imported torch alone,
small allocations made during each round can pin the freed block so that every round maps
fresh pages (seen since engines load lazily); in the engine's process the block is reused.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="the setting is glibc's",
)

FAULTS_PER_TENSOR = """
import json, resource, sys
import torch
import asrlens.infer.recognizers.wav2vec2  # the engine's process: torchaudio and the model code
from asrlens.infer.recognizers.cpu_memory import keep_freed_memory
kept = keep_freed_memory() if sys.argv[1] == "keep" else None
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
counts = []
for _ in range(6):
    before = faults()
    x = torch.ones(16 << 20)  # 64 MiB of float32, every page touched
    counts.append(faults() - before)
    del x
print(json.dumps({"kept": kept, "faults": counts}))
"""


def _faults_per_tensor(mode: str, **env: str) -> dict:
    done = subprocess.run([sys.executable, "-c", FAULTS_PER_TENSOR, mode],
                          capture_output=True, text=True, check=True,
                          env={**os.environ, **env})
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.slow
def test_freed_pages_are_reused_once_kept():
    """Six rounds of make-and-free; glibc's aligned allocations settle within two rounds."""
    default = _faults_per_tensor("default")
    kept = _faults_per_tensor("keep")
    assert min(default["faults"]) > 10_000  # the control: every round maps fresh pages
    assert kept["kept"] is True
    assert max(kept["faults"][3:]) < 1_000  # after two distinct blocks, every round reuses


@pytest.mark.slow
def test_the_environment_can_leave_glibc_as_it_is():
    left = _faults_per_tensor("keep", ASRLENS_KEEP_FREED_MEMORY="0")
    assert left["kept"] is False
    assert min(left["faults"]) > 10_000


def test_a_cpu_wav2vec2_recognizer_keeps_freed_memory_and_says_so():
    from test_batching import small_engine

    engine = small_engine("WAV2VEC2_ASR_BASE_960H", layers=1)
    assert engine.options()["keeps_freed_memory"] is True
