"""Keep freed memory in the process for the next file (glibc, wav2vec2 on CPU).

By default glibc gives large allocations their own mmap and unmaps them when they are freed,
and hands the top of its heap back to the OS once enough of it is free. Either way the next
tensor of that size starts from fresh pages: a page fault and a zeroed page for every 4 KiB,
every time. wav2vec2's feature extractor makes several such tensors per file (its first
convolution's output alone is 46 MB for 7 s of audio), and on this project's CPU machine that
cost about a tenth of a BASE forward pass (BENCHMARKS.md, "wav2vec2 on CPU against the
compute bound").

`keep_freed_memory()` raises glibc's mmap threshold and trim threshold with `mallopt`, so
allocations up to 1 GiB come from the heap and freed pages stay there for the next file. The
process then keeps its peak memory instead of returning it between files, and that peak is
higher (measured: 2.5 GB against 1.7 GB over the 32 sample clips in fp32, 2.9 against 2.0
after a 30 s file). This is what PyTorch's CPU performance guide gets by preloading jemalloc
or tcmalloc. It changes nothing but speed and resident memory, does nothing where the C
library is not glibc, and is left off when the environment has ASRLENS_KEEP_FREED_MEMORY=0.
"""

from __future__ import annotations

import ctypes
import os
import platform

M_TRIM_THRESHOLD = -1  # mallopt parameter numbers, from glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 1 << 30  # allocations up to this size come from the heap
TRIM_THRESHOLD_BYTES = (1 << 31) - 1  # free heap top kept before returning it (int's max)

OPT_OUT = "ASRLENS_KEEP_FREED_MEMORY"  # "0": leave glibc's defaults

_kept = False


def keep_freed_memory() -> bool:
    """Make glibc keep freed memory for reuse; True when it is set (now or before).

    Both thresholds are needed: a high mmap threshold alone moves large tensors onto the heap
    but its top is still trimmed after each file, and a trim threshold alone turns off glibc's
    adaptive mmap threshold, so every allocation over 128 KiB is mapped afresh.
    """
    global _kept
    if _kept:
        return True
    if os.environ.get(OPT_OUT) == "0":
        return False
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    _kept = (mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
             and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1)
    return _kept
