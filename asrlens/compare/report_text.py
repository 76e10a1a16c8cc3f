"""The plain-text table `asrlens compare` prints.

    for line in comparison_lines(comparison):
        print(line)
"""

from __future__ import annotations

from asrlens.compare.pairs import Comparison
from asrlens.compare.significance import TESTS
from asrlens.fingerprint import short

TEST_LABELS = {
    "mapsswe": "MAPSSWE (sentence segments)",
    "sign": "sign test (per-group WER)",
    "wilcoxon": "Wilcoxon signed-rank (per-group WER)",
    "mcnemar": "McNemar (sentence errors)",
}
MAX_GROUP_LINES = 40
"""Groups listed before the rest is summed up in one line."""


def fmt_p(p: float) -> str:
    """A p-value as sc_stats prints it: three decimals, '<0.001' below that; NaN (a test
    not run) as '-'."""
    if p != p:
        return "-"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _pct(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{100 * value:.{digits}f}%"


def _points(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:+.2f}"


def data_lines(c: Comparison) -> list[str]:
    """One line on the data fingerprints: the same, or how the data differ."""
    if c.data is None:
        return []
    if c.data.same:
        return [f"  same data: fingerprint {short(c.data.fingerprint_a)}"]
    return [f"  DIFFERENT DATA (fingerprints {short(c.data.fingerprint_a)} and "
            f"{short(c.data.fingerprint_b)}): {c.data.describe()}; those files are left out"]


def normalizer_line(c: Comparison) -> str:
    """Which normalizer the figures are under, and each rescored run's own figure."""
    if not c.own_normalizers:
        return f"Both runs scored under normalizer {c.normalizer}."
    if c.normalizer is None:
        names = ", ".join(f"{run}: {name}" for run, name in c.own_normalizers.items())
        return (f"The runs were scored under different normalizers ({names}), and this "
                f"asrlens cannot apply the first: each run's figures are under its own "
                f"(choose one with --normalizer).")
    own = "; ".join(f"{run} was scored under {name} (its own WER here: "
                    f"{_pct(c.own_wer.get(run))})" for run, name in c.own_normalizers.items()
                    if name != c.normalizer)
    return (f"Both runs rescored under normalizer {c.normalizer} from their raw texts, so "
            f"their figures compare: {own}.")


def comparison_lines(c: Comparison) -> list[str]:
    """The overview, the bootstrap, the four tests and the per-group WERs, as text lines."""
    a, b = c.run_a, c.run_b
    width = max(len(a), len(b), 10)
    boot = c.bootstrap
    lines = [
        f"{b} against {a} (dataset {c.dataset}): {c.files_shared} files scored in both, "
        f"{c.files_left_out} left out (scored in one run only"
        f"{'' if c.data is None or c.data.same else ', or on different data'})",
        normalizer_line(c),
        *data_lines(c),
        "",
        f"  {'':<16} {a:>{width}} {b:>{width}}",
        f"  {'reference words':<16} {c.ref_words_a:>{width},} {c.ref_words_b:>{width},}",
        f"  {'errors (S+D+I)':<16} {c.errors_a:>{width},} {c.errors_b:>{width},}",
        f"  {'WER':<16} {_pct(c.wer_a):>{width}} {_pct(c.wer_b):>{width}}",
        "",
    ]
    if boot.difference is None:
        lines.append("  bootstrap: no shared file with reference words")
    else:
        lines += [
            f"  ΔWER ({b} - {a}): {_points(boot.difference)} points, 95% interval "
            f"[{_points(boot.low)}, {_points(boot.high)}]",
            f"  P({b} better) = {boot.p_b_better:.3f} (bootstrap resampling "
            f"{boot.units} {boot.unit}s, {boot.replicates} replicates, seed {boot.seed})",
        ]
    lines += ["", f"  {'test':<38} {'n':>6} {'statistic':>11} {'p-value':>8}  better at 0.05"]
    for name in TESTS:
        t = c.tests[name]
        if "not_run" in t.detail:
            lines.append(f"  {TEST_LABELS[name]:<38} {t.n:>6} {'-':>11} {'-':>8}  not run: "
                         f"{t.detail['not_run']}")
            continue
        stat = f"z = {t.statistic:.2f}" if name in ("mapsswe", "wilcoxon") else f"{t.statistic:g}"
        lines.append(f"  {TEST_LABELS[name]:<38} {t.n:>6} {stat:>11} {fmt_p(t.p_value):>8}  "
                     f"{c.better_run(t) or 'no difference'}")
    lines += ["", f"  groups ({c.rule.text}): {len(c.groups)}, over the shared files"]
    name_width = max([len(g["group_name"]) for g in c.groups] + [5])
    lines.append(f"  {'group':<{name_width}} {'files':>6} {'WER ' + a:>{width + 4}} "
                 f"{'WER ' + b:>{width + 4}}")
    for g in c.groups[:MAX_GROUP_LINES]:
        lines.append(f"  {g['group_name']:<{name_width}} {g['files']:>6} "
                     f"{_pct(g['wer_a'], 1):>{width + 4}} {_pct(g['wer_b'], 1):>{width + 4}}")
    if len(c.groups) > MAX_GROUP_LINES:
        lines.append(f"  ... {len(c.groups) - MAX_GROUP_LINES} more: asrlens sql \"select * "
                     f"from group_results where group_rule = '{c.rule.text}'\"")
    return lines
