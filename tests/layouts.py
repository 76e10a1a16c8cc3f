"""Tiny datasets of every ingest layout, built from the shared LJSpeech sample clips.

    folder = build("kaldi", tmp_path)          # a Kaldi data dir of CLIPS
    folder = build("ljspeech", tmp_path)       # the original layout, the reference

Every layout holds the same utterances: the ids of CLIPS, their normalized transcript as the
text, the same samples (FLAC is lossless; MP3 only where asked: it is lossy), and speakers
SPEAKERS[i % 2] where the layout can carry them.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import soundfile as sf

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "ljspeech-sample"
CLIPS = ("LJ001-0002", "LJ001-0008", "LJ001-0013")
"""The three shortest-but-one clips of the sample (1.8-2.6 s): fast to recognize."""
SPEAKERS = ("spk-a", "spk-b")
LAYOUTS = ("ljspeech", "librispeech", "commonvoice", "nemo", "kaldi", "parquet", "csv")


def texts(ids=CLIPS) -> dict[str, str]:
    """utt_id -> normalized transcript of the sample's labels."""
    out = {}
    for line in (SAMPLE / "labels.csv").read_text(encoding="utf-8").splitlines():
        fields = line.split("|")
        if fields[0] in ids:
            out[fields[0]] = fields[2] if len(fields) == 3 and fields[2] else fields[1]
    return out


def speaker(i: int) -> str:
    return SPEAKERS[i % len(SPEAKERS)]


def _audio(utt_id: str) -> tuple[np.ndarray, int]:
    return sf.read(SAMPLE / "wavs" / f"{utt_id}.wav", dtype="int16")


def _write(path: Path, utt_id: str, fmt: str = "WAV") -> None:
    data, rate = _audio(utt_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    subtype = None if fmt == "MP3" else "PCM_16"
    sf.write(path, data, rate, format=fmt, subtype=subtype)


def build(layout: str, base: Path, *, ids=CLIPS, mp3: bool = False) -> Path:
    """The dataset folder of `layout` under base/<layout>; see the module doc."""
    folder = base / layout
    folder.mkdir(parents=True)
    t = texts(ids)
    globals()[f"_{layout}"](folder, ids, t, mp3)
    return folder


def _ljspeech(folder: Path, ids, t, mp3) -> None:
    (folder / "wavs").mkdir()
    for utt in ids:
        shutil.copy(SAMPLE / "wavs" / f"{utt}.wav", folder / "wavs")
    lines = [line for line in (SAMPLE / "labels.csv").read_text().splitlines()
             if line.split("|")[0] in ids]
    (folder / "labels.csv").write_text("\n".join(lines) + "\n")


def _librispeech(folder: Path, ids, t, mp3) -> None:
    # LibriSpeech ids are SPEAKER-CHAPTER-NNNN; here the folders carry the speaker and the
    # ids stay those of the sample, so the utterances match the original's
    for i, utt in enumerate(ids):
        chapter = folder / speaker(i) / "001"
        _write(chapter / f"{utt}.flac", utt, "FLAC")
        with open(chapter / f"{speaker(i)}-001.trans.txt", "a") as f:
            f.write(f"{utt} {t[utt]}\n")


def _commonvoice(folder: Path, ids, t, mp3) -> None:
    header = ["client_id", "path", "sentence", "up_votes", "down_votes", "age", "gender",
              "accents", "locale"]
    lines = ["\t".join(header)]
    for i, utt in enumerate(ids):
        suffix = ".mp3" if mp3 else ".flac"
        _write(folder / "clips" / f"{utt}{suffix}", utt, "MP3" if mp3 else "FLAC")
        accent = "England English" if i % 2 else "United States English"
        lines.append("\t".join([speaker(i), f"{utt}{suffix}", t[utt], "2", "0", "twenties",
                                "female", accent, "en"]))
    (folder / "test.tsv").write_text("\n".join(lines) + "\n")


def _nemo(folder: Path, ids, t, mp3) -> None:
    lines = []
    for i, utt in enumerate(ids):
        _write(folder / "audio" / f"{utt}.wav", utt)
        duration = sf.info(folder / "audio" / f"{utt}.wav").duration
        lines.append(json.dumps({"audio_filepath": f"audio/{utt}.wav", "text": t[utt],
                                 "duration": duration, "speaker": speaker(i),
                                 "split": "test"}))
    (folder / "test_manifest.json").write_text("\n".join(lines) + "\n")


def _kaldi(folder: Path, ids, t, mp3) -> None:
    for utt in ids:
        _write(folder / "wav" / f"{utt}.flac", utt, "FLAC")
    (folder / "wav.scp").write_text("".join(f"{u} wav/{u}.flac\n" for u in ids))
    (folder / "text").write_text("".join(f"{u} {t[u]}\n" for u in ids))
    (folder / "utt2spk").write_text("".join(f"{u} {speaker(i)}\n" for i, u in enumerate(ids)))
    (folder / "spk2gender").write_text("".join(f"{s} f\n" for s in SPEAKERS))


def kaldi_segments(base: Path, ids=CLIPS) -> tuple[Path, dict[str, tuple[float, float]]]:
    """A Kaldi data dir whose utterances are spans of ONE recording (the clips concatenated,
    with 0.5 s of silence between): the spans hold exactly the clips' samples."""
    folder = base / "kaldi-segments"
    (folder / "wav").mkdir(parents=True)
    t = texts(ids)
    pieces, spans, at = [], {}, 0
    rate = None
    for utt in ids:
        data, rate = _audio(utt)
        gap = np.zeros(rate // 2, dtype=np.int16)
        spans[utt] = (at / rate, (at + len(data)) / rate)
        pieces += [data, gap]
        at += len(data) + len(gap)
    sf.write(folder / "wav" / "session.flac", np.concatenate(pieces), rate, subtype="PCM_16")
    (folder / "wav.scp").write_text("session wav/session.flac\n")
    (folder / "segments").write_text("".join(
        f"{u} session {spans[u][0]!r} {spans[u][1]!r}\n" for u in ids))
    (folder / "text").write_text("".join(f"{u} {t[u]}\n" for u in ids))
    (folder / "utt2spk").write_text("".join(f"{u} {speaker(i)}\n" for i, u in enumerate(ids)))
    return folder, spans


def _parquet(folder: Path, ids, t, mp3) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = []
    for i, utt in enumerate(ids):
        buffer = io.BytesIO()
        data, rate = _audio(utt)
        sf.write(buffer, data, rate, format="FLAC", subtype="PCM_16")
        rows.append({"id": utt, "audio": {"bytes": buffer.getvalue(), "path": f"{utt}.flac"},
                     "text": t[utt], "speaker_id": speaker(i), "gender": "female"})
    (folder / "data").mkdir()
    # two rows per row group: reading must cross row groups
    pq.write_table(pa.Table.from_pylist(rows), folder / "data" / "test-00000-of-00001.parquet",
                   row_group_size=2)


def _csv(folder: Path, ids, t, mp3) -> None:
    import csv

    with open(folder / "test.csv", "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["path", "text", "speaker", "accent"])
        for i, utt in enumerate(ids):
            _write(folder / "audio" / f"{utt}.wav", utt)
            writer.writerow([f"audio/{utt}.wav", t[utt], speaker(i), "us" if i % 2 else "uk"])


def remove_audio(layout: str, folder: Path, utt_id: str) -> None:
    """Take `utt_id`'s audio away, leaving its label (parquet: the row's bytes)."""
    if layout == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = next(folder.rglob("*.parquet"))
        records = pq.read_table(path).to_pylist()
        for record in records:
            if record["id"] == utt_id:
                record["audio"] = {"bytes": None, "path": f"{utt_id}.flac"}
        pq.write_table(pa.Table.from_pylist(records), path, row_group_size=2)
        return
    found = [p for p in folder.rglob(f"{utt_id}.*") if p.suffix in (".wav", ".flac", ".mp3")]
    assert len(found) == 1, found
    found[0].unlink()


def duplicate_first(layout: str, folder: Path) -> None:
    """Repeat the first utterance's line (row) at the end of the layout's labels."""
    if layout == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = next(folder.rglob("*.parquet"))
        records = pq.read_table(path).to_pylist()
        pq.write_table(pa.Table.from_pylist([*records, records[0]]), path, row_group_size=2)
        return
    manifest = {"ljspeech": "labels.csv", "commonvoice": "test.tsv", "csv": "test.csv",
                "nemo": "test_manifest.json", "kaldi": "text"}.get(layout)
    path = folder / manifest if manifest else sorted(folder.rglob("*.trans.txt"))[0]
    lines = path.read_text().splitlines()
    first = lines[1] if layout in ("commonvoice", "csv") else lines[0]
    path.write_text("\n".join([*lines, first]) + "\n")
