"""Dataset layouts: one module per layout, each turning its files into the same labels
(asrlens.ingest.labels.Label: id, transcript, audio path, speaker, span, extra columns) that
the rest of ingest matches to audio, reads and stores.

    layout, manifest = resolve(root, "auto", given=None)     # ('kaldi', root / 'text')
    result = parse(layout, LayoutContext(root, manifest))    # LayoutResult

`auto` tries LAYOUTS' detectors in DETECT_ORDER; a manifest file given as the dataset (or
with --labels) is claimed by the first layout whose `claims` accepts it.
"""

from __future__ import annotations

from pathlib import Path

from asrlens import defaults
from asrlens.errors import AsrlensError
from asrlens.ingest.layouts import commonvoice, kaldi, librispeech, nemo, parquet, tabular
from asrlens.ingest.layouts.common import LayoutContext, LayoutOptions, LayoutResult

LAYOUTS = defaults.LAYOUTS
"""`asrlens ingest --layout` choices (besides auto)."""

EXPECTS = {
    "ljspeech": tabular.LJSPEECH_EXPECTS,
    "librispeech": librispeech.EXPECTS,
    "commonvoice": commonvoice.EXPECTS,
    "nemo": nemo.EXPECTS,
    "kaldi": kaldi.EXPECTS,
    "parquet": parquet.EXPECTS,
    "csv": tabular.CSV_EXPECTS,
}
"""What each layout expects to find, for the message when nothing fits."""

_DETECT = {
    "kaldi": kaldi.detect, "librispeech": librispeech.detect,
    "commonvoice": commonvoice.detect, "nemo": nemo.detect, "parquet": parquet.detect,
    "ljspeech": tabular.detect_ljspeech, "csv": tabular.detect_csv,
}
DETECT_ORDER = ("ljspeech", "kaldi", "librispeech", "commonvoice", "nemo", "parquet", "csv")
"""Order `auto` tries: ljspeech first (wavs/ or labels.csv: what asrlens always read)."""

_CLAIMS = {
    "kaldi": kaldi.claims, "commonvoice": commonvoice.claims, "nemo": nemo.claims,
    "parquet": parquet.claims, "csv": tabular.claims_csv,
}
_PARSE = {
    "ljspeech": tabular.parse, "csv": tabular.parse, "librispeech": librispeech.parse,
    "commonvoice": commonvoice.parse, "nemo": nemo.parse, "kaldi": kaldi.parse,
    "parquet": parquet.parse,
}

__all__ = ["EXPECTS", "LAYOUTS", "LayoutContext", "LayoutOptions", "LayoutResult",
           "nothing_fits", "parse", "resolve"]


def resolve(root: Path, layout: str, given: Path | None) -> tuple[str, Path | None]:
    """(layout, manifest) for the dataset at `root`; `given` is a manifest file the user
    named (the dataset path itself, or --labels). Raises AsrlensError when `layout` is
    unknown or (auto) nothing fits."""
    if layout != "auto" and layout not in LAYOUTS:
        raise AsrlensError(f"--layout {layout}: choose auto or one of {', '.join(LAYOUTS)}")
    if given is not None:
        if layout != "auto":
            return layout, given
        for name, claims in _CLAIMS.items():
            if claims(given):
                return name, given
        if given.suffix.lower() == ".trans.txt" or given.name.endswith(".trans.txt"):
            return "librispeech", given
        return "ljspeech", given  # a labels file: LJSpeech or CSV, as --labels always was
    if layout != "auto":
        manifest = _DETECT[layout](root)
        if manifest is None and layout not in ("ljspeech", "librispeech", "parquet"):
            raise AsrlensError(f"--layout {layout}: {root} does not hold "
                               f"{EXPECTS[layout]}")
        return layout, manifest
    for name in DETECT_ORDER:
        manifest = _DETECT[name](root)
        if manifest is not None:
            if name == "ljspeech" and manifest.is_file() and tabular.claims_csv(manifest):
                name = "csv"  # labels.csv with a header: a plain CSV
            return name, manifest
    raise AsrlensError(nothing_fits(root))


def nothing_fits(root: Path) -> str:
    """The one-line error when `auto` recognises no layout."""
    expects = "; ".join(f"{name}: {files}" for name, files in EXPECTS.items())
    return f"no dataset layout recognised in {root}: expected one of {expects}"


def parse(layout: str, ctx: LayoutContext) -> LayoutResult:
    """The labels (and embedded audio facts) of `layout` at ctx.root."""
    return _PARSE[layout](ctx)


def detects(root: Path) -> bool:
    """True when some layout recognises `root` (used to find a zipped folder's root)."""
    return any(_DETECT[name](root) is not None for name in DETECT_ORDER)


def claims_any(path: Path) -> bool:
    """True when some layout reads the file `path` as its manifest."""
    return any(claims(path) for claims in _CLAIMS.values()) or path.name.endswith(".trans.txt")
