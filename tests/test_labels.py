"""Labels files: LJSpeech lines and CSV/TSV with a header, parsed into labels and issues."""

from __future__ import annotations

import pytest

from asrlens.errors import AsrlensError
from asrlens.ingest.labels import find_labels_file, parse_labels, unsafe_reason


def write(tmp_path, text: str | bytes, name: str = "labels.csv"):
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def test_ljspeech_lines_keep_quotes_and_semicolons_as_text(tmp_path):
    path = write(tmp_path, 'A1|He said "stop; now"|he said "stop; now"\nA2|"quoted, first"\n')
    parsed = parse_labels(path)
    assert parsed.format == "ljspeech"
    assert [(x.utt_id, x.transcript, x.normalized_transcript, x.line) for x in parsed.labels] == [
        ("A1", 'He said "stop; now"', 'he said "stop; now"', 1),
        ("A2", '"quoted, first"', None, 2),
    ]
    assert parsed.issues == []


def test_full_ljspeech_metadata_parses_every_line(metadata_csv):
    parsed = parse_labels(metadata_csv)
    assert len(parsed.labels) == 13_100
    assert parsed.issues == []
    assert parsed.labels[0].utt_id == "LJ001-0001"
    differ = sum(1 for x in parsed.labels if x.transcript != x.normalized_transcript)
    assert differ == 1505


def test_wrong_field_count_is_reported_with_file_and_line(tmp_path):
    path = write(tmp_path, "A1|one|one\nA2\nA3|a|b|c\nA4|four\n")
    parsed = parse_labels(path, display_name="labels.csv")
    assert [x.utt_id for x in parsed.labels] == ["A1", "A4"]
    assert [(i.kind, i.line) for i in parsed.issues] == [("bad_line", 2), ("bad_line", 3)]
    assert "labels.csv line 3" in parsed.issues[1].message
    assert "found 4" in parsed.issues[1].message


def test_duplicate_id_keeps_the_first(tmp_path):
    path = write(tmp_path, "A1|first\nA2|two\nA1|second\n")
    parsed = parse_labels(path)
    assert [(x.utt_id, x.transcript) for x in parsed.labels] == [("A1", "first"), ("A2", "two")]
    (issue,) = parsed.issues
    assert (issue.kind, issue.line, issue.utt_id) == ("duplicate_id", 3, "A1")
    assert "line 1" in issue.message


def test_empty_id_is_a_bad_line(tmp_path):
    parsed = parse_labels(write(tmp_path, " |no id\n"))
    assert parsed.labels == []
    assert [(i.kind, i.line) for i in parsed.issues] == [("bad_line", 1)]


def test_undecodable_bytes_are_replaced_and_reported_with_the_line(tmp_path):
    path = write(tmp_path, b"A1|fine\nA2|caf\xe9 latin-1\nA3|fine too\n")
    parsed = parse_labels(path)
    assert [x.utt_id for x in parsed.labels] == ["A1", "A2", "A3"]
    assert parsed.labels[1].transcript == "caf\ufffd latin-1"
    (issue,) = parsed.issues
    assert (issue.kind, issue.line) == ("undecodable_text", 2)


def test_bom_crlf_and_blank_lines_are_tolerated(tmp_path):
    path = write(tmp_path, b"\xef\xbb\xbfA1|one\r\n\r\nA2|two\r\n")
    parsed = parse_labels(path)
    assert [(x.utt_id, x.transcript, x.line) for x in parsed.labels] == [
        ("A1", "one", 1), ("A2", "two", 3)]
    assert parsed.issues == []


@pytest.mark.parametrize("bad_id", ["../outside", "/etc/passwd", "wavs/../../x", "C:\\x"])
def test_ids_that_escape_the_dataset_folder_are_skipped(tmp_path, bad_id):
    parsed = parse_labels(write(tmp_path, f"A1|ok\n{bad_id}|evil\n"))
    assert [x.utt_id for x in parsed.labels] == ["A1"]
    (issue,) = parsed.issues
    assert (issue.kind, issue.line) == ("unsafe_path", 2)


def test_csv_with_header_uses_csv_quoting_and_paths(tmp_path):
    path = write(tmp_path, 'file,text,normalized_text\nwavs/a.wav,"Hello, world",hello world\n'
                 'b,plain,\n')
    parsed = parse_labels(path)
    assert parsed.format == "csv"
    assert [(x.utt_id, x.transcript, x.normalized_transcript, x.audio_hint, x.line)
            for x in parsed.labels] == [
        ("a", "Hello, world", "hello world", "wavs/a.wav", 2),
        ("b", "plain", None, None, 3),
    ]


def test_tsv_with_header_in_any_column_order(tmp_path):
    path = write(tmp_path, "sentence\tpath\tup_votes\nHi there\tclips/x.mp3\t2\nshort\n",
                 "labels.tsv")
    parsed = parse_labels(path)
    assert parsed.format == "tsv"
    assert [(x.utt_id, x.transcript, x.audio_hint) for x in parsed.labels] == [
        ("x", "Hi there", "clips/x.mp3")]
    assert [(i.kind, i.line) for i in parsed.issues] == [("bad_line", 3)]


def test_a_first_line_without_known_column_names_is_data(tmp_path):
    parsed = parse_labels(write(tmp_path, "name|words\nA1|one\n"))
    assert parsed.format == "ljspeech"
    assert [x.utt_id for x in parsed.labels] == ["name", "A1"]


def test_an_unreadable_labels_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(AsrlensError, match="missing.csv"):
        parse_labels(tmp_path / "missing.csv")


def test_labels_file_is_found_by_name(tmp_path):
    assert find_labels_file(tmp_path) is None
    write(tmp_path, "A|b\n", "metadata.csv")
    assert find_labels_file(tmp_path) == tmp_path / "metadata.csv"
    write(tmp_path, "A|b\n", "labels.csv")
    assert find_labels_file(tmp_path) == tmp_path / "labels.csv"


def test_unsafe_reason_accepts_plain_relative_paths():
    assert unsafe_reason("wavs/LJ001-0001.wav") is None
    assert unsafe_reason("a..b") is None
    assert unsafe_reason("../a") is not None
