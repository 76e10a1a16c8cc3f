"""Coverage of bootstrap 95% intervals of the corpus WER when speakers matter: seeded
simulated test sets with speaker effects (tests/speaker_simulation.py), the interval from
resampling speakers (asrlens's clustered bootstrap) and from resampling files.

    .venv/bin/python benchmarks/bench_speaker_bootstrap.py                  # 2,000 sets
    .venv/bin/python benchmarks/bench_speaker_bootstrap.py --simulations 500

Prints the share of intervals that cover the true WER (0.95 is right) and their mean width.
Record the figures in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import speaker_simulation as sim  # noqa: E402  (tests/speaker_simulation.py)
from machine import cpu_model  # noqa: E402  (benchmarks/machine.py)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulations", type=int, default=2000)
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"machine: {cpu_model()}")
    print(f"model: {sim.SPEAKERS} speakers per test set, 1 + Poisson({sim.FILES_MEAN:g}) files "
          f"each, 5 + Poisson(10) words per file, speaker error rate logistic("
          f"{sim.LOGIT_MEAN:g} + {sim.LOGIT_SD:g} z)")
    started = time.perf_counter()
    result = sim.coverage(simulations=args.simulations, replicates=args.replicates,
                          seed=args.seed)
    elapsed = time.perf_counter() - started
    se = math.sqrt(0.95 * 0.05 / result.simulations)
    print(f"true WER {result.true_wer:.4f}; {result.simulations} test sets, "
          f"{result.replicates} replicates each, seed {args.seed} ({elapsed:.0f} s)")
    print(f"speaker bootstrap: covers {100 * result.speaker:.1f}% (mean width "
          f"{100 * result.speaker_width:.2f} points)")
    print(f"file bootstrap:    covers {100 * result.file:.1f}% (mean width "
          f"{100 * result.file_width:.2f} points)")
    print(f"(sampling error of a coverage near 95%: +-{100 * 1.96 * se:.1f} points)")


if __name__ == "__main__":
    main()
