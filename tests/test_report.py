"""The HTML report: `asrlens report`, `asrlens run`, the framework and sections 1-3.

Fast tests use a generated database (tests/synthetic.py); the end-to-end ones use the
session's real pocketsphinx run over the LJSpeech sample (`sphinx_db`).
"""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from htmlcheck import assert_well_formed, check_html, elements_by_id
from synthetic import make_synthetic_db

from asrlens.cli import cli
from asrlens.db import connect, query
from asrlens.errors import AsrlensError
from asrlens.report import plots as plots_module
from asrlens.report import render_report
from asrlens.report.media import EMBED_MAX_S, EMBED_SAMPLE_RATE, embed_audio
from asrlens.scoring.bootstrap import corpus_intervals, resampled_totals

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
MY_SECTIONS = ("summary", "dataset", "explore", "run")


@pytest.fixture(scope="module")
def synth_db(tmp_path_factory):
    """200 generated utterances, two finished runs (run0, run1). Read it only."""
    return make_synthetic_db(tmp_path_factory.mktemp("synth") / "synth.duckdb", n_utts=200,
                             n_runs=2, seed=0)


@pytest.fixture(scope="module")
def sphinx_report(tmp_path_factory, sphinx_db):
    """The report of the real pocketsphinx run, audio embedded: (html text, out folder)."""
    out = tmp_path_factory.mktemp("sphinx_report")
    engine = connect(sphinx_db, read_only=True)
    try:
        path = render_report(engine, out_dir=out, audio="embed", top_n=5)
    finally:
        engine.dispose()
    return path.read_text(encoding="utf-8"), out


def render(db, tmp_path, **options) -> str:
    """Render the report of `db` and return the page, checked to be well-formed HTML."""
    engine = connect(db, read_only=True)
    try:
        path = render_report(engine, out_dir=tmp_path / "report", **options)
    finally:
        engine.dispose()
    assert path == tmp_path / "report" / "index.html"
    html = path.read_text(encoding="utf-8")
    assert_well_formed(html)
    return html


def section_ids(html: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)" class="report-section">', html)


def number(elements, element_id: str) -> float:
    return float(elements[element_id]["data-value"])


# --- on the real sample with a pocketsphinx run -------------------------------------------


def test_every_section_renders_on_the_sample_with_a_pocketsphinx_run(sphinx_report):
    html, _ = sphinx_report
    assert_well_formed(html)
    ids = section_ids(html)
    assert ids[:4] == list(MY_SECTIONS)
    for section in ("distribution", "worst", "patterns"):
        assert section in ids
    assert "compare" not in ids  # one run: nothing to compare
    for section in ids:  # the table of contents links to every section
        assert f'<a href="#{section}">' in html


def test_run_numbers_in_the_page_equal_run_summary(sphinx_report, sphinx_db):
    html, _ = sphinx_report
    elements = elements_by_id(html)
    engine = connect(sphinx_db, read_only=True)
    try:
        summary = query(engine, "select * from run_summary where run_id = 'sphinx'")[0]
    finally:
        engine.dispose()
    for metric in ("wer", "mer", "wil", "cer"):
        assert number(elements, f"run-{metric}") == pytest.approx(summary[metric], abs=1e-12)
    assert number(elements, "run-rtf") == pytest.approx(summary["real_time_factor"])
    assert summary["wer"] > 0  # a real recognizer makes errors: the comparison means something
    shown = re.search(r'id="run-wer" data-value="[^"]+">([\d.]+)%<', html).group(1)
    assert shown == f"{100 * summary['wer']:.1f}"


def test_intervals_in_the_page_bracket_the_corpus_rates(sphinx_report):
    html, _ = sphinx_report
    rows = re.findall(
        r'<tr data-metric="(\w+)">.*?data-value="([^"]+)".*?data-low="([^"]+)" '
        r'data-high="([^"]+)"', html, flags=re.S)
    assert [r[0] for r in rows] == ["wer", "mer", "wil", "cer"]
    for _, value, low, high in rows:
        assert float(low) <= float(value) <= float(high)
        assert float(low) < float(high)  # 32 files that differ: the interval has width


def test_dataset_numbers_in_the_page_equal_the_tables(sphinx_report, sphinx_db):
    html, _ = sphinx_report
    elements = elements_by_id(html)
    engine = connect(sphinx_db, read_only=True)
    try:
        utterances = query(engine, "select count(*) as n from utterances")[0]["n"]
        files = query(engine, "select count(*) as n, sum(duration_s) / 3600 as h "
                              "from audio_files")[0]
        issues = query(engine, "select kind, count(*) as n from ingest_issues group by kind")
    finally:
        engine.dispose()
    assert number(elements, "dataset-utterances") == utterances == 100
    assert number(elements, "dataset-files") == files["n"] == 32
    assert number(elements, "dataset-hours") == pytest.approx(files["h"])
    assert number(elements, "dataset-missing-audio") == 68
    for issue in issues:
        cell = re.search(rf'<tr data-kind="{issue["kind"]}">\s*<td>.*?</td>\s*'
                         rf'<td class="num" data-value="(\d+)">', html, flags=re.S)
        assert cell and int(cell.group(1)) == issue["n"]


def test_the_explored_file_is_described_with_its_real_shape(sphinx_report, sample_dir):
    html, _ = sphinx_report
    shape = elements_by_id(html)["explore-shape"]
    utt_id = re.search(r"One file drawn at random.*?<strong>([^<]+)</strong>", html).group(1)
    info = sf.info(str(sample_dir / "wavs" / f"{utt_id}.wav"))
    assert int(shape["data-frames"]) == info.frames
    assert int(shape["data-channels"]) == info.channels == 1
    assert number(elements_by_id(html), "explore-rate") == info.samplerate == 22050
    assert "wav2vec2 layer features and emissions are drawn when the run" in html


def test_page_is_self_contained(sphinx_report):
    html, out = sphinx_report
    assert [p.name for p in out.iterdir()] == ["index.html"]
    assert not re.search(r'(src|href)="(https?:)?//', html)  # no CDN, no network
    assert "<link" not in html
    assert "<style>" in html and "table.sortable" in html and "<script>" in html


def test_embedded_audio_is_short_compressed_16khz_mono(sphinx_report):
    html, _ = sphinx_report
    uris = re.findall(r'src="data:audio/ogg;base64,([A-Za-z0-9+/=]+)"', html)
    assert uris
    samples, rate = sf.read(io.BytesIO(base64.b64decode(uris[0])))
    assert rate == EMBED_SAMPLE_RATE and samples.ndim == 1
    assert 1.0 < samples.size / rate <= EMBED_MAX_S


def test_every_figure_has_a_caption(sphinx_report):
    html, _ = sphinx_report
    figures = re.findall(r'<figure class="plot">(.*?)</figure>', html, flags=re.S)
    assert len(figures) >= 6
    for figure in figures:
        caption = re.search(r"<figcaption>(.+?)</figcaption>", figure, flags=re.S)
        assert caption and len(caption.group(1).strip()) > 20


# --- options and choices -----------------------------------------------------------------


def test_audio_link_points_at_the_dataset_file_and_none_leaves_audio_out(sphinx_db, tmp_path,
                                                                         sample_dir):
    linked = render(sphinx_db, tmp_path / "link", audio="link", top_n=2)
    links = re.findall(r'<source src="(file://[^"]+)"', linked)
    assert links and all(link.endswith(".wav") for link in links)
    assert (sample_dir / "wavs").resolve().as_uri() in links[0]
    assert "data:audio" not in linked
    bare = render(sphinx_db, tmp_path / "none", audio="none", top_n=2)
    assert "<audio" not in bare
    assert_well_formed(bare)


def test_without_runs_the_report_covers_the_dataset_only(ingested_db, tmp_path):
    html = render(ingested_db, tmp_path)
    assert_well_formed(html)
    assert section_ids(html) == ["dataset", "explore"]
    assert "no inference run yet" in html


def test_default_run_is_the_most_recent_finished_one(synth_db, copy_db, tmp_path):
    db = copy_db(synth_db)
    engine = connect(db)
    with engine.begin() as conn:
        query(conn, "update runs set finished_at = started_at + interval 1 day "
                    "where run_id = 'run0'")
        query(conn, "update runs set status = 'running', started_at = started_at "
                    "+ interval 2 day where run_id = 'run1'")
    engine.dispose()
    html = render(db, tmp_path)
    assert re.findall(r'<strong class="report-run">([^<]+)</strong>', html) == ["run0"]


def test_several_runs_are_reported_primary_first(synth_db, tmp_path):
    html = render(synth_db, tmp_path, run_ids=["run1", "run0"])
    assert_well_formed(html)
    assert re.findall(r'<strong class="report-run">([^<]+)</strong>', html) == ["run1", "run0"]
    assert "Run <strong>run1</strong>" in html


def test_the_same_seed_gives_the_same_report(synth_db, tmp_path):
    first = render(synth_db, tmp_path / "a", seed=3)
    second = render(synth_db, tmp_path / "b", seed=3)
    strip = re.compile(r"on \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")  # the generation time
    assert strip.sub("", first) == strip.sub("", second)


def test_unknown_run_is_a_clear_error(synth_db, tmp_path):
    result = CliRunner().invoke(cli, ["report", "--db", str(synth_db), "--run", "nope",
                                      "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "Error: no run named 'nope' in the database; runs: " in result.output
    assert "run0" in result.output and "Traceback" not in result.output


def test_report_on_an_empty_database_says_to_ingest_first(db_path, tmp_path):
    connect(db_path).dispose()
    result = CliRunner().invoke(cli, ["report", "--db", str(db_path), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "run `asrlens ingest DATASET` first" in result.output


def test_out_that_is_a_file_is_a_clear_error(synth_db, tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("not a folder")
    engine = connect(synth_db, read_only=True)
    try:
        with pytest.raises(AsrlensError, match=f"--out {taken} is a file"):
            render_report(engine, out_dir=taken)
    finally:
        engine.dispose()
    result = CliRunner().invoke(cli, ["report", "--db", str(synth_db), "--out", str(taken)])
    assert result.exit_code == 2 and "is a file" in result.output  # click checks it first


def test_report_command_prints_the_path_of_the_page(synth_db, tmp_path):
    out = tmp_path / "shared"
    result = CliRunner().invoke(cli, ["report", "--db", str(synth_db), "--out", str(out),
                                      "--audio", "none", "--top", "3", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out / "index.html")
    assert result.stderr.startswith("Using run ")  # no --run: it says which it picked
    assert_well_formed((out / "index.html").read_text(encoding="utf-8"))


# --- escaping ------------------------------------------------------------------------------


def test_html_and_js_payloads_in_transcripts_appear_escaped(synth_db, copy_db, tmp_path):
    db = copy_db(synth_db)
    engine = connect(db)
    with engine.begin() as conn:
        payload = f"{SCRIPT} {IMG}"
        query(conn, "update utterances set transcript = :p || transcript, "
                    "normalized_transcript = :p || normalized_transcript", p=payload)
        query(conn, "update transcripts set ref_raw = :p || ref_raw, ref_norm = :p || ref_norm,"
                    " hyp_raw = hyp_raw || :q, hyp_norm = hyp_norm || :q", p=SCRIPT, q=IMG)
        query(conn, "update alignment_ops set hyp_word = :q where op = 'substitute'", q=IMG)
        query(conn, "update alignment_ops set ref_word = :p where op = 'delete'", p=SCRIPT)
        query(conn, "update hyp_words set word = :q where word_index = 0", q=IMG)
    engine.dispose()
    html = render(db, tmp_path, run_ids=["run0", "run1"], top_n=5)
    assert SCRIPT not in html
    assert IMG not in html
    assert "<img src=x" not in html and "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count("<script>") == 1  # ours: the table sorter
    assert_well_formed(html)


# --- building blocks -------------------------------------------------------------------------


def test_bootstrap_resamples_files_and_recomputes_the_ratio_of_totals():
    # Two files: 1 error in 1 word, 0 errors in 99 words. Corpus WER is 1/100, not the
    # mean of per-file rates (0.5); every replicate is a ratio of resampled totals.
    counts = {"hits": [0, 99], "substitutions": [1, 0], "deletions": [0, 0],
              "insertions": [0, 0], "ref_words": [1, 99], "hyp_words": [1, 99],
              "ref_chars": [4, 400], "char_errors": [2, 0]}
    wer = corpus_intervals(counts, seed=0, replicates=400)["wer"]
    assert wer.value == pytest.approx(0.01)
    # Resamples of two files: {a,a} -> 1.0, {a,b} -> 0.01, {b,b} -> 0.0.
    assert wer.low == 0.0 and wer.high == 1.0
    totals = resampled_totals({"x": np.array([1.0, 10.0])}, seed=0, replicates=50)["x"]
    assert set(totals) <= {2.0, 11.0, 20.0}


def test_bootstrap_is_seeded_and_brackets_the_value():
    rng = np.random.default_rng(1)
    ref = rng.integers(5, 30, size=300)
    subs = rng.binomial(ref, 0.2)
    counts = {"hits": ref - subs, "substitutions": subs, "deletions": np.zeros(300),
              "insertions": rng.integers(0, 2, size=300), "ref_words": ref,
              "hyp_words": ref, "ref_chars": ref * 5, "char_errors": subs * 2}
    first = corpus_intervals(counts, seed=7)
    assert first == corpus_intervals(counts, seed=7)
    assert first != corpus_intervals(counts, seed=8)
    for interval in first.values():
        assert interval.low < interval.value < interval.high
        assert interval.replicates == 1000
    # The WER interval is about +-2 standard errors of a ratio estimate: a few points wide.
    assert 0.01 < first["wer"].high - first["wer"].low < 0.06


def test_bootstrap_of_no_files_gives_no_interval():
    empty = {name: [] for name in ("hits", "substitutions", "deletions", "insertions",
                                   "ref_words", "hyp_words", "ref_chars", "char_errors")}
    assert corpus_intervals(empty, seed=0)["wer"].value is None


def test_a_figure_without_title_or_axis_labels_is_refused():
    import matplotlib.pyplot as plt

    with plots_module.plotting():
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1])
        ax.set_title("t")
        with pytest.raises(ValueError, match="label both axes"):
            plots_module.to_plot(fig, caption="look here")
        ax.set_xlabel("time (s)")
        ax.set_ylabel("level (dB)")
        with pytest.raises(ValueError, match="caption"):
            plots_module.to_plot(fig, caption=" ")
        plot = plots_module.to_plot(fig, caption="look here")
    assert plot.svg.startswith("<svg") and plot.title == "t"
    assert not plt.get_fignums()  # plotting() closed what it opened


def test_inline_svgs_get_ids_unique_across_the_page():
    first = plots_module.histogram([1, 2, 3], title="a", xlabel="x (s)", caption="c")
    second = plots_module.histogram([1, 2, 3], title="a", xlabel="x (s)", caption="c")
    page = f"<!DOCTYPE html><html><head></head><body>{first.svg}{second.svg}</body></html>"
    assert check_html(page) == []
    for plot in (first, second):  # every reference points at an id of its own svg
        ids = set(re.findall(r'\bid="([^"]+)"', plot.svg))
        refs = set(re.findall(r'(?:href="|url\()#([^")]+)', plot.svg))
        assert refs <= ids


def test_embed_audio_of_an_unreadable_file_is_an_asrlens_error(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF not really")
    with pytest.raises(AsrlensError, match="bad.wav"):
        embed_audio(bad)


# --- asrlens run ---------------------------------------------------------------------------


@pytest.mark.slow
def test_run_command_does_ingest_infer_analyze_and_report(sample_dir, tmp_path):
    db = tmp_path / "run.duckdb"
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, [
        "run", str(sample_dir), "--db", str(db), "--engine", "pocketsphinx", "--limit", "1",
        "--out", str(out), "--audio", "none", "--no-progress",
    ])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == str(out / "index.html")
    engine = connect(db, read_only=True)
    try:
        runs = query(engine, "select engine, status, files_scored from run_summary")
        tags = query(engine, "select count(*) as n from utterance_features")[0]["n"]
    finally:
        engine.dispose()
    assert runs == [{"engine": "pocketsphinx", "status": "finished", "files_scored": 1}]
    assert tags == 100  # analyze ran: features for every label of the dataset
    assert_well_formed((out / "index.html").read_text(encoding="utf-8"))


def test_run_defaults_to_wav2vec2_and_never_switches_engine(sample_dir, tmp_path,
                                                            monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty_torch_home"))
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # no download, even with a network
    db = tmp_path / "run.duckdb"
    result = CliRunner().invoke(cli, ["run", str(sample_dir), "--db", str(db), "--limit", "1",
                                      "--out", str(tmp_path / "out"), "--no-progress"])
    assert result.exit_code == 1
    assert "Error: " in result.output and "WAV2VEC2_ASR_BASE_960H" in result.output
    assert "--checkpoint" in result.output
    assert not (tmp_path / "out" / "index.html").exists()
    engine = connect(db, read_only=True)
    try:
        assert query(engine, "select engine from runs where engine <> 'wav2vec2'") == []
    finally:
        engine.dispose()


# --- wav2vec2 views in the exploration section ----------------------------------------------


@pytest.fixture
def wav2vec2_run_db(tmp_path, sample_dir):
    """32 generated utterances with the sample's ids (audio: the real sample); run1 is a
    wav2vec2 run (WAV2VEC2_ASR_BASE_960H, weights from the torch hub cache)."""
    db = make_synthetic_db(tmp_path / "w2v.duckdb", n_utts=32, n_runs=2, seed=2)
    engine = connect(db)
    with engine.begin() as conn:
        conn.exec_driver_sql("update datasets set root = ?", (str(sample_dir),))
    engine.dispose()
    return db


@pytest.mark.slow
def test_a_wav2vec2_run_shows_layer_features_and_emissions(wav2vec2_run_db, tmp_path,
                                                           placeholder_torch_home):
    # Placeholder (random) weights: this checks that the views are drawn, not what they say.
    html = render(wav2vec2_run_db, tmp_path, run_ids=["run1"], audio="none", top_n=2)
    explore = html[html.index('<section id="explore"'):html.index('<section id="run"')]
    assert "transformer features" in explore and "CTC emissions" in explore
    assert explore.count('<img src="data:image/') == 4  # spectrogram, MFCC, features, emissions
    assert "Greedy decoding:" in explore
    assert_well_formed(html)


def test_a_wav2vec2_run_without_weights_says_so_in_one_line(wav2vec2_run_db, tmp_path,
                                                            monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty_torch_home"))
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    html = render(wav2vec2_run_db, tmp_path, run_ids=["run1"], audio="none", top_n=2)
    note = re.search(r'<p class="note">wav2vec2 views not drawn: ([^<]+)</p>', html)
    assert note and "\n" not in note.group(1)
    assert "--checkpoint" in note.group(1)
    assert "transformer features" not in html


def test_a_report_without_wav2vec2_imports_neither_torch_nor_scipy_stats(tmp_path):
    # issue 26: torch (through explore's wav2vec2 view) and scipy.stats (through the
    # significance tests) were 5 of the 15 s a small report took, before any work was done.
    import subprocess
    import sys

    db = make_synthetic_db(tmp_path / "s.duckdb", n_utts=30, n_runs=2, seed=0,
                           missing_audio_share=0.0)
    script = (
        "import sys\n"
        "from asrlens.cli import cli\n"
        f"args = ['report', '--db', {str(db)!r}, '--run', 'run0', '--run', 'run1',\n"
        f"        '--audio', 'none', '--out', {str(tmp_path / 'out')!r}]\n"
        "try:\n    cli(args)\nexcept SystemExit as exc:\n    assert exc.code == 0, exc.code\n"
        "print(sorted(m for m in ('torch', 'scipy.stats', 'asrlens.explore', 'matplotlib')\n"
        "             if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    loaded = done.stdout.strip().splitlines()[-1]
    assert (tmp_path / "out" / "index.html").is_file()
    assert loaded == "['asrlens.explore', 'matplotlib']", loaded  # explore and plots did run
