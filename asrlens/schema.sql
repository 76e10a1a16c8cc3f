-- asrlens public schema.
--
-- This file is the public API of the database: users query these tables and views with
-- `asrlens sql` or any DuckDB client. It is applied idempotently on every write connection
-- (CREATE ... IF NOT EXISTS); `schema_version` records which version a file holds, and
-- asrlens/db/migrations.py migrates older files forward without losing data: a column added
-- to a CREATE TABLE here reaches older files by itself (docs/schema.md, "Changing the schema").
--
-- Conventions: times in seconds (`_s`), levels in dB relative to full scale (`_dbfs`),
-- fractions in [0, 1], rates (wer, mer, ...) as fractions, not percentages.
-- Paths are POSIX, relative to `datasets.root`. No foreign-key constraints (DuckDB cannot
-- update rows that others reference); the keys named in comments are the join keys.

-- One row per schema version applied to this file.
CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER PRIMARY KEY,
    applied_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);

------------------------------------------------------------------------------------------
-- Ingest
------------------------------------------------------------------------------------------

-- One row per ingested dataset. `name` defaults to the folder or zip name.
CREATE TABLE IF NOT EXISTS datasets (
    name          VARCHAR PRIMARY KEY,
    source        VARCHAR NOT NULL,   -- what the user passed: absolute path of the folder or .zip
    root          VARCHAR NOT NULL,   -- absolute folder the audio paths are relative to (a zip is extracted here)
    labels_path   VARCHAR,            -- labels file, relative to root (NULL: none found)
    labels_format VARCHAR,            -- 'ljspeech' (no header, '|'-separated) or 'csv' / 'tsv' / 'psv' ('|') with a header; the layout otherwise: 'librispeech', 'commonvoice', 'nemo', 'kaldi', 'parquet'
    n_labels      INTEGER,            -- label lines parsed into utterances
    n_audio       INTEGER,            -- audio files found under root
    ingested_at   TIMESTAMP NOT NULL  -- UTC; kept when a re-ingest finds nothing changed
);

-- One row per labelled utterance (key: dataset, utt_id).
CREATE TABLE IF NOT EXISTS utterances (
    dataset               VARCHAR NOT NULL,  -- datasets.name
    utt_id                VARCHAR NOT NULL,  -- first field of the labels line, e.g. 'LJ001-0001'
    transcript            VARCHAR NOT NULL,  -- raw transcript (2nd field), as written
    normalized_transcript VARCHAR,           -- 3rd field (numbers, abbreviations spelled out); NULL when absent
    audio_path            VARCHAR,           -- audio file relative to datasets.root; NULL when the audio is missing
    labels_line           INTEGER,           -- 1-based line number in the labels file
    speaker               VARCHAR,           -- schema v8: from the layout (LibriSpeech folder, client_id, utt2spk, a speaker key/column); NULL when unknown
    PRIMARY KEY (dataset, utt_id)
);

-- Utterances that are spans of a longer recording (Kaldi `segments`, NeMo `offset`): the span
-- and its audio statistics, measured on the span's frames only (key: dataset, utt_id). The
-- recording itself is an audio_files row (utt_id NULL there); `asrlens infer` reads only
-- the span. Definitions as in audio_files.
CREATE TABLE IF NOT EXISTS utterance_spans (
    dataset          VARCHAR NOT NULL,  -- datasets.name
    utt_id           VARCHAR NOT NULL,  -- utterances.utt_id
    path             VARCHAR NOT NULL,  -- the recording: audio_files.path (= utterances.audio_path)
    start_s          DOUBLE NOT NULL,   -- span start, seconds from the start of the recording
    end_s            DOUBLE,            -- span end, seconds; NULL: to the end of the recording
    frames           BIGINT,            -- samples per channel in the span; NULL when the recording could not be decoded
    duration_s       DOUBLE,            -- frames / sample_rate
    peak_dbfs        DOUBLE,
    rms_dbfs         DOUBLE,
    clipped_fraction DOUBLE,
    silence_fraction DOUBLE,
    non_finite_samples BIGINT,
    PRIMARY KEY (dataset, utt_id)
);

-- One row per audio file found under the dataset root, readable or not (key: dataset, path).
-- Statistics are NULL when the file could not be decoded (see ingest_issues).
CREATE TABLE IF NOT EXISTS audio_files (
    dataset          VARCHAR NOT NULL,
    path             VARCHAR NOT NULL,   -- relative to datasets.root, e.g. 'wavs/LJ001-0001.wav'; absolute when outside it (--allow-outside-paths); '<file>.parquet#<row>' for audio embedded in a parquet file
    utt_id           VARCHAR,            -- utterance it belongs to; NULL for audio without a label, or a recording cut into spans (utterance_spans)
    format           VARCHAR,            -- libsndfile container: 'WAV', 'FLAC', 'OGG', 'MP3', ...
    subtype          VARCHAR,            -- sample encoding: 'PCM_16', 'PCM_24', 'FLOAT', ...
    sample_rate      INTEGER,            -- Hz
    channels         INTEGER,
    frames           BIGINT,             -- samples per channel
    duration_s       DOUBLE,             -- frames / sample_rate
    bytes            BIGINT,             -- file size
    mtime            DOUBLE,             -- modification time (Unix seconds); with bytes, decides re-reads
    sha256           VARCHAR,            -- hex digest of the file's bytes
    peak_dbfs        DOUBLE,             -- max |sample| in dBFS over all channels (-inf stored as NULL for digital silence)
    rms_dbfs         DOUBLE,             -- RMS level in dBFS over all channels (NULL for digital silence)
    clipped_fraction DOUBLE,             -- fraction of samples with |x| >= 0.999 full scale
    silence_fraction DOUBLE,             -- fraction of 25 ms frames more than 40 dB below the file's peak
    non_finite_samples BIGINT,           -- samples that are NaN or ±inf (float files), left out of the levels above; NULL when not decoded
    PRIMARY KEY (dataset, path)
);

-- Everything ingest could not use, one row per problem. Replaced on each ingest of the dataset,
-- so it always describes the dataset as it is now. kind is one of:
--   missing_audio     a label whose audio file does not exist
--   unlabelled_audio  an audio file no label refers to
--   duplicate_id      a label id seen before (the first one is kept)
--   bad_line          a labels line with the wrong number of fields or an empty id
--   undecodable_text  a labels line that is not valid UTF-8 (decoded with replacement characters)
--   empty_audio       a zero-length file, or a header with zero frames
--   corrupt_audio     a file libsndfile cannot decode (truncated, not audio, ...)
--   non_finite_samples  a float file with NaN or infinite samples (statistics of the others kept)
--   unsafe_path       an id or zip entry that would escape the dataset folder ('../', absolute)
--   bad_archive       the .zip itself is not a readable zip, or an entry that could not be written
--   duplicate_entry   a .zip holds several entries of one name (the last one is used)
--   no_labels         no labels file was found (parquet: a file without a text column)
--   pipe_command      a Kaldi wav.scp entry that is a shell command (`sox ... |`): refused, never run
--   outside_path      an audio path outside the dataset folder, read because of --allow-outside-paths
CREATE TABLE IF NOT EXISTS ingest_issues (
    dataset  VARCHAR NOT NULL,
    kind     VARCHAR NOT NULL,
    utt_id   VARCHAR,   -- utterance concerned, when there is one
    path     VARCHAR,   -- file concerned (labels file or audio), relative to root
    line     INTEGER,   -- 1-based line in the labels file, for label problems
    message  VARCHAR NOT NULL
);

-- Extra columns of a labels file with a header (speaker, accent, gender, split, ...): every
-- column that is not the id/path, transcript or normalized transcript, one row per utterance
-- and column (key: dataset, utt_id, name). Replaced on each ingest, like utterances. Group
-- files by one with `--group-by label:NAME` (docs/compare.md).
CREATE TABLE IF NOT EXISTS utterance_labels (
    dataset  VARCHAR NOT NULL,  -- datasets.name
    utt_id   VARCHAR NOT NULL,  -- utterances.utt_id
    name     VARCHAR NOT NULL,  -- the column's header, lower-cased and trimmed, e.g. 'speaker'
    value    VARCHAR,           -- the cell as written; NULL when empty
    PRIMARY KEY (dataset, utt_id, name)
);

------------------------------------------------------------------------------------------
-- Inference and scoring
------------------------------------------------------------------------------------------

-- One row per inference run (key: run_id). Re-invoking `asrlens infer --run NAME` resumes it.
CREATE TABLE IF NOT EXISTS runs (
    run_id            VARCHAR PRIMARY KEY,  -- the run's name (--run)
    dataset           VARCHAR NOT NULL,     -- datasets.name
    engine            VARCHAR NOT NULL,     -- 'wav2vec2', 'pocketsphinx', ...
    model             VARCHAR NOT NULL,     -- e.g. 'WAV2VEC2_ASR_BASE_960H', 'en-us'
    checkpoint        VARCHAR,              -- weights file used (absolute path), NULL when bundled
    checkpoint_sha256 VARCHAR,
    normalizer        VARCHAR NOT NULL,     -- normalization id, name and version: 'ljspeech-v1' (docs/infer.md)
    reference_column  VARCHAR NOT NULL,     -- 'normalized_transcript' (falls back to 'transcript' per file when NULL) or 'transcript'
    device            VARCHAR NOT NULL,     -- 'cpu', 'cuda', 'cuda:0', ...
    precision         VARCHAR NOT NULL,     -- 'fp32', 'bf16', 'fp16'
    options           JSON,                 -- engine options (chunk length, ...) + loop settings: batch_audio_s (0: one file at a time), read_workers, batch_files, limit, checkpoint_arg, ...; --ray runs: executor 'ray', cluster, workers, gpus
    versions          JSON,                 -- library versions: asrlens, torch, torchaudio, jiwer, ...
    status            VARCHAR NOT NULL,     -- 'running', 'interrupted' (Ctrl-C, SIGTERM, or found 'running' after its process died), 'failed' (crashed, or no file scored), 'finished'
    started_at        TIMESTAMP NOT NULL,   -- UTC, first invocation
    finished_at       TIMESTAMP,            -- UTC; NULL until every file has been attempted
    files_total       INTEGER,              -- files with audio the run covers (after --limit)
    audio_s           DOUBLE,               -- audio seconds transcribed so far (files without error)
    wall_s            DOUBLE,               -- wall-clock seconds spent (model loading included), summed over resumes
    owner_pid         INTEGER,              -- process that last started or resumed the run (schema v3) ...
    owner_host        VARCHAR,              -- ... on this host (socket.gethostname()) ...
    owner_started_at  TIMESTAMP,            -- ... which started at this time (UTC): a 'running' run whose process is gone is stale
    alignment         VARCHAR DEFAULT 'unit', -- word alignment of the scores: 'unit' (every edit costs 1) or 'sclite' (S 4, I and D 3)
    source_path       VARCHAR,              -- imported runs (`asrlens import-run`): absolute path of the hypothesis file; NULL when asrlens transcribed
    source_format     VARCHAR,              -- imported runs: 'trn', 'csv', 'tsv', 'jsonl' or 'nemo'; NULL when asrlens transcribed
    data_fingerprint  VARCHAR               -- schema v8: sha256 (hex) of what the run was scored on: sorted 'utt_id|reference sha256|audio sha256' of every file it covers (docs/compare.md); NULL before v8
);

-- One row per (run, utterance) processed. Texts of both sides, raw and normalized.
CREATE TABLE IF NOT EXISTS transcripts (
    run_id     VARCHAR NOT NULL,
    utt_id     VARCHAR NOT NULL,
    ref_raw    VARCHAR,          -- reference as read from `runs.reference_column`
    ref_norm   VARCHAR,          -- reference after `runs.normalizer`
    hyp_raw    VARCHAR,          -- recognizer output as decoded; NULL when error is set
    hyp_norm   VARCHAR,          -- hypothesis after `runs.normalizer`
    audio_s    DOUBLE,           -- seconds of audio transcribed; NULL when it could not be read
    compute_s  DOUBLE,           -- seconds spent reading, resampling and recognizing this file (in a batch: its share, by audio length)
    error      VARCHAR,          -- why the file could not be transcribed; NULL when it was. Retried on resume,
                                 -- except 'not transcribed: ingest found the audio unusable ...' (corrupt or empty audio)
    created_at TIMESTAMP NOT NULL,  -- UTC
    ref_sha256 VARCHAR,          -- sha256 (hex) of ref_raw as scored; a changed reference is rescored on resume
    rescored_at TIMESTAMP,       -- UTC; when the file was last scored again against a changed reference (NULL: never)
    PRIMARY KEY (run_id, utt_id)
);

-- Per-file error counts from jiwer on ref_norm / hyp_norm (key: run_id, utt_id); one row per
-- transcript without error. Words are split on spaces; character counts run on the same
-- normalized strings and include the spaces between words (as jiwer's CER does). Counts are
-- always stored; a rate whose denominator is zero is NULL (wer and cer for an empty reference;
-- mer, wil, wip follow jiwer: both sides empty -> mer 0, wip 1, wil 0).
CREATE TABLE IF NOT EXISTS utterance_errors (
    run_id        VARCHAR NOT NULL,
    utt_id        VARCHAR NOT NULL,
    ref_words     INTEGER NOT NULL,
    hyp_words     INTEGER NOT NULL,
    hits          INTEGER NOT NULL,
    substitutions INTEGER NOT NULL,
    deletions     INTEGER NOT NULL,
    insertions    INTEGER NOT NULL,
    wer           DOUBLE,   -- (S+D+I)/ref_words; NULL when ref_words = 0
    mer           DOUBLE,   -- (S+D+I)/(H+S+D+I)
    wil           DOUBLE,   -- 1 - wip
    wip           DOUBLE,   -- (H/ref_words) * (H/hyp_words)
    ref_chars     INTEGER NOT NULL,  -- characters of ref_norm, spaces included
    hyp_chars     INTEGER NOT NULL,
    char_hits          INTEGER NOT NULL,
    char_substitutions INTEGER NOT NULL,
    char_deletions     INTEGER NOT NULL,
    char_insertions    INTEGER NOT NULL,
    cer           DOUBLE,   -- (S+D+I)/ref_chars over characters; NULL when ref_chars = 0
    PRIMARY KEY (run_id, utt_id)
);

-- The word alignment behind utterance_errors, one row per aligned word.
CREATE TABLE IF NOT EXISTS alignment_ops (
    run_id    VARCHAR NOT NULL,
    utt_id    VARCHAR NOT NULL,
    op_index  INTEGER NOT NULL,  -- 0-based position in the alignment
    op        VARCHAR NOT NULL,  -- 'equal', 'substitute', 'delete', 'insert'
    ref_word  VARCHAR,           -- NULL for insert
    hyp_word  VARCHAR,           -- NULL for delete
    ref_pos   INTEGER,           -- 0-based index in the normalized reference words; NULL for insert
    hyp_pos   INTEGER,           -- 0-based index in the normalized hypothesis words; NULL for delete
    PRIMARY KEY (run_id, utt_id, op_index)
);

-- The same files scored under the minimal normalization ('minimal-v1': case folded,
-- punctuation deleted, whitespace collapsed) of the raw transcript column and the raw
-- hypothesis, with the run's alignment: the "raw" side of raw vs normalized
-- (key: run_id, utt_id). One row per utterance_errors row.
CREATE TABLE IF NOT EXISTS raw_errors (
    run_id        VARCHAR NOT NULL,
    utt_id        VARCHAR NOT NULL,
    ref_text      VARCHAR NOT NULL,  -- utterances.transcript after the minimal rules
    hyp_text      VARCHAR NOT NULL,  -- transcripts.hyp_raw after the minimal rules
    ref_words     INTEGER NOT NULL,
    hyp_words     INTEGER NOT NULL,
    hits          INTEGER NOT NULL,
    substitutions INTEGER NOT NULL,
    deletions     INTEGER NOT NULL,
    insertions    INTEGER NOT NULL,
    wer           DOUBLE,            -- NULL when ref_words = 0
    PRIMARY KEY (run_id, utt_id)
);

-- The word alignment behind raw_errors; columns as in alignment_ops, positions index the
-- words of raw_errors.ref_text / hyp_text.
CREATE TABLE IF NOT EXISTS raw_alignment_ops (
    run_id    VARCHAR NOT NULL,
    utt_id    VARCHAR NOT NULL,
    op_index  INTEGER NOT NULL,
    op        VARCHAR NOT NULL,  -- 'equal', 'substitute', 'delete', 'insert'
    ref_word  VARCHAR,
    hyp_word  VARCHAR,
    ref_pos   INTEGER,
    hyp_pos   INTEGER,
    PRIMARY KEY (run_id, utt_id, op_index)
);

-- What `asrlens import-run` could not use, one row per problem (replaced when the run is
-- imported again). kind is one of:
--   unmatched      a line whose id or audio path names no utterance of the dataset
--   duplicate      a second line for an utterance (the first one is kept)
--   bad_line       a line that cannot be parsed, or without an id or a hypothesis field
--   no_hypothesis  an utterance with audio that no line gives a hypothesis for (it is also a
--                  transcripts row with its error set, and counts in strict_wer)
CREATE TABLE IF NOT EXISTS import_issues (
    run_id  VARCHAR NOT NULL,
    kind    VARCHAR NOT NULL,
    line    INTEGER,   -- 1-based line in the hypothesis file; NULL for no_hypothesis
    key     VARCHAR,   -- the id or audio path the line gives (no_hypothesis: the utt_id)
    message VARCHAR NOT NULL
);

-- Hypothesis words with timing and confidence, where the engine gives them.
CREATE TABLE IF NOT EXISTS hyp_words (
    run_id     VARCHAR NOT NULL,
    utt_id     VARCHAR NOT NULL,
    word_index INTEGER NOT NULL,  -- 0-based position in hyp_raw's words
    word       VARCHAR NOT NULL,
    start_s    DOUBLE,            -- from the start of the file
    end_s      DOUBLE,
    confidence DOUBLE,            -- wav2vec2: mean frame posterior of the word's CTC path; pocketsphinx: exp(log posterior); whisper: the word's token probability
    PRIMARY KEY (run_id, utt_id, word_index)
);

-- Decoder segments with the decoder's own scores, where the engine gives them (whisper): the
-- raw material for hallucination analysis. Rewritten with the file's other results.
CREATE TABLE IF NOT EXISTS hyp_segments (
    run_id            VARCHAR NOT NULL,
    utt_id            VARCHAR NOT NULL,
    segment_index     INTEGER NOT NULL,  -- 0-based, in time order
    start_s           DOUBLE,            -- from the start of the file
    end_s             DOUBLE,
    text              VARCHAR NOT NULL,  -- the segment's text as the engine wrote it
    avg_logprob       DOUBLE,            -- mean log-probability of its tokens (whisper: < -1 is doubtful)
    no_speech_prob    DOUBLE,            -- probability of the no-speech token at its window's start
    compression_ratio DOUBLE,            -- text length / its zlib-compressed length (> 2.4: repetition)
    PRIMARY KEY (run_id, utt_id, segment_index)
);

-- Corpus-level figures per run. Rates are totals over files, never means of per-file rates.
-- wer counts the scored files only (files_scored; a file with an empty hypothesis is scored,
-- all its reference words deletions); strict_wer also counts every failed file (files_failed:
-- transcription failed, or an imported file had no hypothesis) with all its reference words
-- as deletions. Neither counts files_not_attempted (an interrupted or still running run).
-- raw_wer scores the same files under the minimal normalization (raw_errors).
CREATE OR REPLACE VIEW run_summary AS
WITH per_run AS (
    SELECT
        e.run_id,
        count(*)                                        AS files_scored,
        sum(e.ref_words)                                AS ref_words,
        sum(e.hyp_words)                                AS hyp_words,
        sum(e.hits)                                     AS hits,
        sum(e.substitutions)                            AS substitutions,
        sum(e.deletions)                                AS deletions,
        sum(e.insertions)                               AS insertions,
        sum(e.ref_chars)                                AS ref_chars,
        sum(e.char_substitutions + e.char_deletions + e.char_insertions) AS char_errors
    FROM utterance_errors e
    GROUP BY e.run_id
),
failed AS (
    SELECT
        run_id,
        count(*) AS files_failed,
        sum(CASE WHEN coalesce(ref_norm, '') = '' THEN 0
                 ELSE len(string_split(ref_norm, ' ')) END) AS failed_ref_words
    FROM transcripts WHERE error IS NOT NULL GROUP BY run_id
),
attempted AS (
    SELECT run_id, count(*) AS files_attempted FROM transcripts GROUP BY run_id
),
empty_hyp AS (
    SELECT run_id, count(*) AS files_empty_hyp
    FROM utterance_errors WHERE hyp_words = 0 AND ref_words > 0 GROUP BY run_id
),
raw AS (
    SELECT run_id, sum(ref_words) AS raw_ref_words,
           sum(substitutions + deletions + insertions) AS raw_word_errors
    FROM raw_errors GROUP BY run_id
),
final AS (
    SELECT
        r.run_id, r.dataset, r.engine, r.model, r.normalizer, r.device, r.precision, r.status,
        r.files_total,
        coalesce(p.files_scored, 0)  AS files_scored,
        coalesce(f.files_failed, 0)  AS files_failed,
        p.ref_words, p.hyp_words, p.hits, p.substitutions, p.deletions, p.insertions,
        (p.substitutions + p.deletions + p.insertions) / nullif(p.ref_words, 0) AS wer,
        (p.substitutions + p.deletions + p.insertions)
            / nullif(p.hits + p.substitutions + p.deletions + p.insertions, 0) AS mer,
        1 - (p.hits::DOUBLE / nullif(p.ref_words, 0)) * (p.hits::DOUBLE / nullif(p.hyp_words, 0)) AS wil,
        p.char_errors / nullif(p.ref_chars, 0) AS cer,
        r.audio_s / 3600.0 AS audio_hours,
        r.wall_s,
        r.wall_s / nullif(r.audio_s, 0) AS real_time_factor,
        -- added in schema version 5 (kept last: the columns above keep their places)
        coalesce(e.files_empty_hyp, 0) AS files_empty_hyp,
        greatest(coalesce(r.files_total, 0) - coalesce(a.files_attempted, 0), 0)
            AS files_not_attempted,
        coalesce(p.ref_words, 0) + coalesce(f.failed_ref_words, 0) AS strict_ref_words,
        (coalesce(p.substitutions + p.deletions + p.insertions, 0)
            + coalesce(f.failed_ref_words, 0))
            / nullif(coalesce(p.ref_words, 0) + coalesce(f.failed_ref_words, 0), 0) AS strict_wer,
        w.raw_ref_words,
        w.raw_word_errors / nullif(w.raw_ref_words, 0) AS raw_wer,
        coalesce(r.alignment, 'unit') AS alignment,
        r.source_format
    FROM runs r
    LEFT JOIN per_run p USING (run_id)
    LEFT JOIN failed f USING (run_id)
    LEFT JOIN attempted a USING (run_id)
    LEFT JOIN empty_hyp e USING (run_id)
    LEFT JOIN raw w USING (run_id)
)
SELECT * FROM final;

------------------------------------------------------------------------------------------
-- Error analysis (asrlens/analysis): why files fail
------------------------------------------------------------------------------------------

-- Per-utterance features that plausibly explain errors (key: dataset, utt_id).
CREATE TABLE IF NOT EXISTS utterance_features (
    dataset          VARCHAR NOT NULL,
    utt_id           VARCHAR NOT NULL,
    duration_s       DOUBLE,
    ref_words        INTEGER,   -- words in the normalized reference
    ref_chars        INTEGER,   -- letters in the normalized reference, spaces excluded
    words_per_s      DOUBLE,    -- speaking rate
    chars_per_s      DOUBLE,
    rms_dbfs         DOUBLE,
    silence_fraction DOUBLE,
    clipped_fraction DOUBLE,
    n_digits         INTEGER,   -- digit characters in the raw transcript
    n_abbreviations  INTEGER,   -- abbreviations such as Mr. Dr. St. in the raw transcript
    norm_differs     BOOLEAN,   -- raw and normalized transcripts differ (numbers, abbreviations spelled out)
    n_proper_nouns   INTEGER,   -- capitalised words that do not start a sentence
    n_rare_words     INTEGER,   -- words seen at most `rare` times over all labels of the dataset
    n_hyphenated     INTEGER,   -- hyphenated or compound words in the raw transcript
    PRIMARY KEY (dataset, utt_id)
);

-- Likely reasons for each error (alignment op that is not 'equal'); one row per tag, an op
-- may carry several (key: run_id, utt_id, op_index, tag).
CREATE TABLE IF NOT EXISTS op_tags (
    run_id   VARCHAR NOT NULL,
    utt_id   VARCHAR NOT NULL,
    op_index INTEGER NOT NULL,  -- alignment_ops.op_index
    tag      VARCHAR NOT NULL,  -- see docs/analyze.md "Error tags"
    PRIMARY KEY (run_id, utt_id, op_index, tag)
);

-- Every reference word of a run with its flags and how the recognizer did on it: the base for
-- "error rate of proper nouns against other words" (key: run_id, utt_id, ref_pos).
CREATE TABLE IF NOT EXISTS reference_words (
    run_id        VARCHAR NOT NULL,
    utt_id        VARCHAR NOT NULL,
    ref_pos       INTEGER NOT NULL,  -- alignment_ops.ref_pos
    word          VARCHAR NOT NULL,  -- as in the normalized reference
    op            VARCHAR NOT NULL,  -- 'equal' (recognized), 'substitute' or 'delete'
    hyp_word      VARCHAR,           -- what was heard instead (NULL when deleted)
    proper_noun   BOOLEAN NOT NULL,  -- capitalised mid-sentence in the raw transcript
    rare_word     BOOLEAN NOT NULL,  -- seen at most `rare` times over the dataset's labels (docs/analyze.md)
    normalization BOOLEAN NOT NULL,  -- comes from a number or abbreviation spelled out
    function_word BOOLEAN NOT NULL,  -- in asrlens's list of English function words
    hyphenated    BOOLEAN NOT NULL,  -- part of a hyphenated word in the raw transcript
    PRIMARY KEY (run_id, utt_id, ref_pos)
);

-- WER by quantile bucket of each feature of utterance_features, over a run's scored files
-- (key: run_id, feature, bucket). wer = errors / ref_words of the bucket's files (corpus-style).
CREATE TABLE IF NOT EXISTS feature_effects (
    run_id    VARCHAR NOT NULL,
    feature   VARCHAR NOT NULL,  -- a column of utterance_features, e.g. 'duration_s'
    bucket    INTEGER NOT NULL,  -- 0-based, low feature values first (quartiles, or one per value)
    lo        DOUBLE NOT NULL,   -- smallest feature value in the bucket
    hi        DOUBLE NOT NULL,   -- largest feature value in the bucket
    files     INTEGER NOT NULL,
    ref_words INTEGER NOT NULL,
    errors    INTEGER NOT NULL,  -- substitutions + deletions + insertions
    wer       DOUBLE,
    PRIMARY KEY (run_id, feature, bucket)
);

-- Spearman rank correlation of per-file WER with each feature (key: run_id, feature).
CREATE TABLE IF NOT EXISTS feature_correlations (
    run_id    VARCHAR NOT NULL,
    feature   VARCHAR NOT NULL,
    files     INTEGER NOT NULL,  -- scored files where the feature is known
    spearman  DOUBLE,            -- in [-1, 1]; NULL when the feature or the WER is constant
    n_buckets INTEGER NOT NULL,  -- rows in feature_effects
    PRIMARY KEY (run_id, feature)
);

-- The written summary of a run's analysis, one sentence per row; every number comes from a
-- query over the tables above (key: run_id, position).
CREATE TABLE IF NOT EXISTS analysis_summary (
    run_id   VARCHAR NOT NULL,
    position INTEGER NOT NULL,  -- 0-based order of the sentence
    topic    VARCHAR NOT NULL,  -- 'overall', 'worst_files', 'tags', 'features', 'confusions'
    sentence VARCHAR NOT NULL,
    PRIMARY KEY (run_id, position)
);

------------------------------------------------------------------------------------------
-- Comparing runs and groups (asrlens/compare): written by `asrlens compare`
------------------------------------------------------------------------------------------

-- Run b against run a over the files both scored (key: run_a, run_b). Each run's WER is its
-- errors over its own reference words on those files (runs may use different normalizers).
CREATE TABLE IF NOT EXISTS run_comparisons (
    run_a           VARCHAR NOT NULL,  -- the baseline run (runs.run_id)
    run_b           VARCHAR NOT NULL,  -- the run compared with it
    dataset         VARCHAR NOT NULL,
    group_rule      VARCHAR NOT NULL,  -- groups of the sign and Wilcoxon tests: 'regex:^[^-]+', 'label:speaker', 'sql:...'
    files_a         INTEGER NOT NULL,  -- files run a scored
    files_b         INTEGER NOT NULL,
    files_shared    INTEGER NOT NULL,  -- files both scored: the pairs every figure rests on
    files_left_out  INTEGER NOT NULL,  -- files scored in one run only: files_a + files_b - 2 files_shared
    ref_words_a     INTEGER NOT NULL,  -- reference words of the shared files under the comparison's normalizer
    ref_words_b     INTEGER NOT NULL,
    errors_a        INTEGER NOT NULL,  -- S + D + I of run a on the shared files
    errors_b        INTEGER NOT NULL,
    wer_a           DOUBLE,            -- errors_a / ref_words_a
    wer_b           DOUBLE,
    wer_difference  DOUBLE,            -- wer_b - wer_a: negative when b is better
    difference_low  DOUBLE,            -- 95% bootstrap percentile interval of wer_difference
    difference_high DOUBLE,
    p_b_better      DOUBLE,            -- share of bootstrap replicates with wer_b < wer_a (ties half)
    replicates      INTEGER NOT NULL,  -- bootstrap replicates (files, or speakers: see resampled)
    seed            INTEGER NOT NULL,
    computed_at     TIMESTAMP NOT NULL,  -- UTC
    resampled       VARCHAR,           -- schema v8: what the bootstrap resampled: 'speaker' when the dataset knows its speakers, else 'file'
    normalizer      VARCHAR,           -- the normalizer every figure here is under: run a's unless `compare --normalizer`; a run scored under another was rescored from its raw texts (schema v9)
    PRIMARY KEY (run_a, run_b)
);

-- The four sc_stats significance tests of a comparison, one row per test (key: run_a, run_b,
-- test). Two-tailed, null hypothesis: no difference. test is one of:
--   mapsswe   matched-pairs sentence-segment word error: z over per-segment error differences
--   sign      sign test on per-group WER (groups: run_comparisons.group_rule)
--   wilcoxon  Wilcoxon signed-rank test on per-group WER (normal approximation)
--   mcnemar   McNemar's test on sentence errors (files with any error), exact binomial
CREATE TABLE IF NOT EXISTS comparison_tests (
    run_a       VARCHAR NOT NULL,
    run_b       VARCHAR NOT NULL,
    test        VARCHAR NOT NULL,
    statistic   DOUBLE NOT NULL,  -- z (mapsswe, wilcoxon); the smaller count (sign: groups, mcnemar: files)
    p_value     DOUBLE NOT NULL,  -- as sc_stats computes it (docs/compare.md)
    significant BOOLEAN NOT NULL, -- at 0.05
    better_run  VARCHAR,          -- run_a or run_b when significant, else NULL
    n           INTEGER NOT NULL, -- segments (mapsswe), groups (sign, wilcoxon), discordant files (mcnemar)
    detail      JSON,             -- the counts behind the statistic
    PRIMARY KEY (run_a, run_b, test)
);

-- Per-group results of a run: its scored files grouped by a rule (key: run_id, group_rule,
-- group_name). wer = errors / ref_words of the group's files (corpus-style).
CREATE TABLE IF NOT EXISTS group_results (
    run_id        VARCHAR NOT NULL,
    group_rule    VARCHAR NOT NULL,  -- 'regex:PATTERN', 'label:COLUMN' or 'sql:EXPRESSION'
    group_name    VARCHAR NOT NULL,  -- '(none)' for files the rule gives no group
    files         INTEGER NOT NULL,
    ref_words     INTEGER NOT NULL,
    substitutions INTEGER NOT NULL,
    deletions     INTEGER NOT NULL,
    insertions    INTEGER NOT NULL,
    errors        INTEGER NOT NULL,
    wer           DOUBLE,            -- NULL when the group has no reference words
    wer_low       DOUBLE,            -- 95% bootstrap percentile interval (the group's files resampled)
    wer_high      DOUBLE,
    seed          INTEGER NOT NULL,
    computed_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (run_id, group_rule, group_name)
);

-- Words whose errors the run's normalizer removed or added: per run and word, the errors
-- under the minimal normalization (raw_alignment_ops) and under the run's normalizer
-- (alignment_ops). A substituted or deleted reference word, or an inserted hypothesis word,
-- is one error of that word; words are compared in upper case. Only words whose count
-- differs, and only runs with raw scores (key: run_id, word).
CREATE OR REPLACE VIEW normalizer_word_effects AS
WITH normalized AS (
    SELECT run_id, upper(CASE WHEN op = 'insert' THEN hyp_word ELSE ref_word END) AS word,
           count(*) AS errors
    FROM alignment_ops WHERE op <> 'equal' GROUP BY ALL
),
raw AS (
    SELECT run_id, upper(CASE WHEN op = 'insert' THEN hyp_word ELSE ref_word END) AS word,
           count(*) AS errors
    FROM raw_alignment_ops WHERE op <> 'equal' GROUP BY ALL
),
final AS (
    SELECT
        coalesce(n.run_id, r.run_id)   AS run_id,
        coalesce(n.word, r.word)       AS word,
        coalesce(r.errors, 0)          AS raw_errors,         -- errors under minimal-v1
        coalesce(n.errors, 0)          AS normalized_errors,  -- errors under runs.normalizer
        coalesce(n.errors, 0) - coalesce(r.errors, 0) AS change  -- < 0: the normalizer removed errors
    FROM normalized n
    FULL OUTER JOIN raw r ON n.run_id = r.run_id AND n.word = r.word
)
SELECT * FROM final
WHERE change <> 0 AND run_id IN (SELECT DISTINCT run_id FROM raw_errors);

------------------------------------------------------------------------------------------
-- Failures (asrlens/analysis: hallucination, formatting, punctuation, keywords): written by
-- `asrlens analyze` for each run (docs/analyze.md "Failures")
------------------------------------------------------------------------------------------

-- Hallucination and loop signals of each scored file (key: run_id, utt_id); words are the
-- run's normalized words. The rules and thresholds are in docs/analyze.md "Hallucinations".
CREATE TABLE IF NOT EXISTS hallucination_files (
    run_id              VARCHAR NOT NULL,
    utt_id              VARCHAR NOT NULL,
    ref_words           INTEGER NOT NULL,
    hyp_words           INTEGER NOT NULL,
    length_ratio        DOUBLE,            -- hyp_words / ref_words; NULL for an empty reference
    length_outlier      VARCHAR,           -- 'long', 'short' or NULL (the length-ratio rule)
    loops               INTEGER NOT NULL,  -- n-grams (1-4 words) repeated 3+ times in a row, more than in the reference
    loop_words          INTEGER NOT NULL,  -- words of those loops beyond the reference's repeats
    start_inserted      INTEGER NOT NULL,  -- inserted words in a row before the first reference word (0 when fewer than 4)
    end_inserted        INTEGER NOT NULL,  -- the same after the last reference word
    inserted            INTEGER NOT NULL,  -- inserted words (alignment_ops 'insert')
    inserted_timed      INTEGER,           -- of them, with word times; NULL: silence not checked (no times or no audio)
    inserted_in_silence INTEGER,           -- of them, whose time span lies in silence; NULL: not checked
    silence_s           DOUBLE,            -- seconds of silent frames in the file; NULL when the audio was not read
    flagged             BOOLEAN NOT NULL,  -- any loop, edge run, 'long' outlier or inserted word in silence
    PRIMARY KEY (run_id, utt_id)
);

-- Each hallucination signal found, one row per event (key: run_id, utt_id, event_index).
-- kind is one of 'loop', 'edge_start', 'edge_end', 'length_ratio', 'silence_insertion'.
CREATE TABLE IF NOT EXISTS hallucination_events (
    run_id      VARCHAR NOT NULL,
    utt_id      VARCHAR NOT NULL,
    event_index INTEGER NOT NULL,
    kind        VARCHAR NOT NULL,
    hyp_pos     INTEGER NOT NULL,  -- first normalized hypothesis word concerned
    words       INTEGER NOT NULL,  -- hypothesis words concerned
    text        VARCHAR,           -- loop: the repeated n-gram; edge runs and silence: the words
    start_s     DOUBLE,            -- time of the first word concerned (NULL without word times, and for length_ratio)
    end_s       DOUBLE,
    detail      VARCHAR,           -- e.g. '5 times in a row (reference: 0)'
    PRIMARY KEY (run_id, utt_id, event_index)
);

-- Per file: hallucination_files beside the engine's own segment signals where it gives them
-- (hyp_segments; NULL for other engines).
CREATE OR REPLACE VIEW hallucination_file_signals AS
WITH segments AS (
    SELECT run_id, utt_id, count(*) AS segments,
           max(no_speech_prob) AS max_no_speech_prob,
           max(compression_ratio) AS max_compression_ratio,
           min(avg_logprob) AS min_avg_logprob
    FROM hyp_segments GROUP BY run_id, utt_id
),
final AS (
    SELECT h.*, s.segments, s.max_no_speech_prob, s.max_compression_ratio, s.min_avg_logprob
    FROM hallucination_files h
    LEFT JOIN segments s USING (run_id, utt_id)
)
SELECT * FROM final;

-- Per run: hallucination signals summed over files. inserted_in_silence counts only files
-- whose silence was checked (files_silence_checked).
CREATE OR REPLACE VIEW hallucination_summary AS
WITH final AS (
    SELECT
        run_id,
        count(*)                                            AS files,
        count(*) FILTER (WHERE flagged)                     AS files_flagged,
        sum(loops)                                          AS loops,
        sum(loop_words)                                     AS loop_words,
        count(*) FILTER (WHERE start_inserted > 0)          AS start_runs,
        count(*) FILTER (WHERE end_inserted > 0)            AS end_runs,
        count(*) FILTER (WHERE length_outlier = 'long')     AS long_files,
        count(*) FILTER (WHERE length_outlier = 'short')    AS short_files,
        sum(inserted)                                       AS inserted,
        count(*) FILTER (WHERE inserted_in_silence IS NOT NULL) AS files_silence_checked,
        sum(inserted_in_silence)                            AS inserted_in_silence,
        sum(hyp_words)                                      AS hyp_words,
        sum(ref_words)                                      AS ref_words
    FROM hallucination_files
    GROUP BY run_id
)
SELECT * FROM final;

-- Errors that disappear under a looser normalization, one row per error op (key: run_id,
-- scoring, utt_id, op_index). kind: 'casing', 'punctuation', 'compound', 'contraction',
-- 'spelling' or 'number' (the first looser level at which the window's words agree).
CREATE TABLE IF NOT EXISTS formatting_errors (
    run_id       VARCHAR NOT NULL,
    scoring      VARCHAR NOT NULL,  -- 'run': alignment_ops (runs.normalizer); 'raw': raw_alignment_ops (minimal-v1)
    utt_id       VARCHAR NOT NULL,
    op_index     INTEGER NOT NULL,  -- alignment_ops.op_index (raw: raw_alignment_ops.op_index)
    kind         VARCHAR NOT NULL,
    window_start INTEGER NOT NULL,  -- op_index of the window's first op (ops of one window share it)
    ref_text     VARCHAR NOT NULL,  -- the window's reference words
    hyp_text     VARCHAR NOT NULL,  -- the window's hypothesis words
    PRIMARY KEY (run_id, scoring, utt_id, op_index)
);

-- Per run and scoring: all word errors and, per kind, the formatting-only ones.
-- kind NULL is the total over kinds.
CREATE OR REPLACE VIEW formatting_summary AS
WITH errors AS (
    SELECT run_id, 'run' AS scoring, count(*) AS errors
    FROM alignment_ops WHERE op <> 'equal' GROUP BY run_id
    UNION ALL
    SELECT run_id, 'raw' AS scoring, count(*) AS errors
    FROM raw_alignment_ops WHERE op <> 'equal' GROUP BY run_id
),
kinds AS (
    SELECT run_id, scoring, kind, count(*) AS formatting_errors,
           count(DISTINCT (utt_id, window_start)) AS windows
    FROM formatting_errors GROUP BY GROUPING SETS ((run_id, scoring, kind), (run_id, scoring))
),
final AS (
    SELECT e.run_id, e.scoring, k.kind, e.errors,
           coalesce(k.formatting_errors, 0) AS formatting_errors,
           coalesce(k.windows, 0) AS windows,
           coalesce(k.formatting_errors, 0) / nullif(e.errors, 0) AS share
    FROM errors e
    LEFT JOIN kinds k ON k.run_id = e.run_id AND k.scoring = e.scoring
)
SELECT * FROM final;

-- NVIDIA NeMo's punctuation operation counts per file and mark (key: run_id, utt_id, mark):
-- the labels' raw transcript against transcripts.hyp_raw; only marks that occur.
CREATE TABLE IF NOT EXISTS punctuation_files (
    run_id        VARCHAR NOT NULL,
    utt_id        VARCHAR NOT NULL,
    mark          VARCHAR NOT NULL,  -- '.', ',', '?' or '!'
    correct       INTEGER NOT NULL,
    deletions     INTEGER NOT NULL,  -- in the reference, missing from the hypothesis
    insertions    INTEGER NOT NULL,
    substitutions INTEGER NOT NULL,  -- the reference mark, another mark in the hypothesis
    PRIMARY KEY (run_id, utt_id, mark)
);

-- Substituted marks per file (key: run_id, utt_id, ref_mark, hyp_mark).
CREATE TABLE IF NOT EXISTS punctuation_substitutions (
    run_id   VARCHAR NOT NULL,
    utt_id   VARCHAR NOT NULL,
    ref_mark VARCHAR NOT NULL,
    hyp_mark VARCHAR NOT NULL,
    count    INTEGER NOT NULL,
    PRIMARY KEY (run_id, utt_id, ref_mark, hyp_mark)
);

-- Casing of each scored file's raw texts (key: run_id, utt_id).
CREATE TABLE IF NOT EXISTS casing_files (
    run_id          VARCHAR NOT NULL,
    utt_id          VARCHAR NOT NULL,
    words           INTEGER NOT NULL,  -- aligned word pairs equal ignoring case
    casing_errors   INTEGER NOT NULL,  -- of them, differing in case
    hyp_writes_case BOOLEAN NOT NULL,  -- the hypothesis mixes upper- and lower-case letters
    hyp_marks       INTEGER NOT NULL,  -- punctuation marks ('.', ',', '?', '!') in the hypothesis
    examples        VARCHAR,           -- up to 3 casing errors, 'Ref -> ref; ...'
    PRIMARY KEY (run_id, utt_id)
);

-- Per run and mark, and over all marks (mark NULL): NeMo's punct_er and its operation rates.
CREATE OR REPLACE VIEW punctuation_summary AS
WITH sums AS (
    SELECT run_id, mark, sum(correct) AS correct, sum(deletions) AS deletions,
           sum(insertions) AS insertions, sum(substitutions) AS substitutions
    FROM punctuation_files GROUP BY GROUPING SETS ((run_id, mark), (run_id))
),
final AS (
    SELECT *, correct + deletions + insertions + substitutions AS operations,
           (deletions + insertions + substitutions)
               / nullif(correct + deletions + insertions + substitutions, 0) AS punct_er,
           correct / nullif(correct + deletions + insertions + substitutions, 0) AS correct_rate
    FROM sums
)
SELECT * FROM final;

-- Per run: the casing error rate, and whether the recognizer writes case and punctuation at all.
CREATE OR REPLACE VIEW casing_summary AS
WITH final AS (
    SELECT run_id, count(*) AS files, sum(words) AS words, sum(casing_errors) AS casing_errors,
           sum(casing_errors) / nullif(sum(words), 0) AS casing_error_rate,
           count(*) FILTER (WHERE hyp_writes_case) AS files_hyp_cased,
           sum(hyp_marks) AS hyp_marks
    FROM casing_files GROUP BY run_id
)
SELECT * FROM final;

-- Keyword terms of a dataset (`asrlens analyze --keywords`); utt_id NULL: a term of every
-- file, else a term of that file only (from a labels column).
CREATE TABLE IF NOT EXISTS keywords (
    dataset VARCHAR NOT NULL,
    term    VARCHAR NOT NULL,  -- as written (one or more words)
    utt_id  VARCHAR,
    source  VARCHAR NOT NULL   -- the keywords file (absolute path as given) or 'label:COLUMN'
);

-- Each occurrence of a term in a scored file (key: run_id, utt_id, term, side, occurrence).
CREATE TABLE IF NOT EXISTS keyword_occurrences (
    run_id     VARCHAR NOT NULL,
    utt_id     VARCHAR NOT NULL,
    term       VARCHAR NOT NULL,  -- keywords.term
    side       VARCHAR NOT NULL,  -- 'ref' or 'hyp'
    occurrence INTEGER NOT NULL,  -- 0-based: the term's nth occurrence on that side of the file
    position   INTEGER NOT NULL,  -- index of its first word in the normalized words
    found      BOOLEAN NOT NULL,  -- ref: recognized in place (all words hits, in a row); hyp: is such a recognition
    PRIMARY KEY (run_id, utt_id, term, side, occurrence)
);

-- Per run and term: reference occurrences, recall, precision and keyword error rate
-- ((missed + unmatched hypothesis occurrences) / reference occurrences). term NULL: all terms.
CREATE OR REPLACE VIEW keyword_results AS
WITH sums AS (
    SELECT run_id, term,
           count(*) FILTER (WHERE side = 'ref')              AS ref_occurrences,
           count(*) FILTER (WHERE side = 'ref' AND found)    AS found,
           count(*) FILTER (WHERE side = 'hyp')              AS hyp_occurrences,
           count(*) FILTER (WHERE side = 'hyp' AND found)    AS matched
    FROM keyword_occurrences GROUP BY GROUPING SETS ((run_id, term), (run_id))
),
final AS (
    SELECT *, found / nullif(ref_occurrences, 0) AS recall,
           matched / nullif(hyp_occurrences, 0) AS precision,
           ((ref_occurrences - found) + (hyp_occurrences - matched))
               / nullif(ref_occurrences, 0) AS keyword_error_rate
    FROM sums
)
SELECT * FROM final;

-- For each comparison (run_comparisons), per term: reference occurrences found by one run
-- and missed by the other, matched on (utt_id, term, occurrence). lost: found by run_a, not
-- by run_b; gained: the reverse. Only terms with a change.
CREATE OR REPLACE VIEW keyword_changes AS
WITH pairs AS (
    SELECT c.run_a, c.run_b, a.utt_id, a.term, a.found AS found_a, b.found AS found_b
    FROM run_comparisons c
    JOIN keyword_occurrences a ON a.run_id = c.run_a AND a.side = 'ref'
    JOIN keyword_occurrences b ON b.run_id = c.run_b AND b.side = 'ref'
         AND b.utt_id = a.utt_id AND b.term = a.term AND b.occurrence = a.occurrence
),
final AS (
    SELECT run_a, run_b, term, count(*) AS occurrences,
           count(*) FILTER (WHERE found_a)               AS found_a,
           count(*) FILTER (WHERE found_b)               AS found_b,
           count(*) FILTER (WHERE found_a AND NOT found_b) AS lost,
           count(*) FILTER (WHERE found_b AND NOT found_a) AS gained
    FROM pairs GROUP BY run_a, run_b, term
)
SELECT * FROM final WHERE lost > 0 OR gained > 0;

-- Runs over a probe dataset (`asrlens probe`: non-speech clips with empty references): per
-- run and clip kind, what the recognizer wrote. chars counts hyp_raw's characters other than
-- whitespace; a clean recognizer writes 0 (key: run_id, kind).
CREATE OR REPLACE VIEW probe_results AS
WITH clips AS (
    SELECT t.run_id, l.value AS kind, t.utt_id, t.audio_s, t.error,
           length(regexp_replace(coalesce(t.hyp_raw, ''), '\s', '', 'g')) AS chars,
           CASE WHEN trim(coalesce(t.hyp_raw, '')) = '' THEN 0
                ELSE len(string_split(trim(regexp_replace(t.hyp_raw, '\s+', ' ', 'g')), ' '))
           END AS words
    FROM transcripts t
    JOIN runs r ON r.run_id = t.run_id
    JOIN utterance_labels l ON l.dataset = r.dataset AND l.utt_id = t.utt_id
         AND l.name = 'probe_kind'
),
final AS (
    SELECT run_id, kind,
           count(*) FILTER (WHERE error IS NULL) AS clips,
           count(*) FILTER (WHERE error IS NOT NULL) AS clips_failed,
           sum(audio_s) FILTER (WHERE error IS NULL) AS audio_s,
           sum(chars) FILTER (WHERE error IS NULL) AS chars,
           sum(words) FILTER (WHERE error IS NULL) AS words,
           sum(chars) FILTER (WHERE error IS NULL)
               / nullif(sum(audio_s) FILTER (WHERE error IS NULL) / 60.0, 0) AS chars_per_minute,
           string_agg(nullif(trim(coalesce(hyp_raw_text, '')), ''), ' | ') AS texts
    FROM (SELECT c.*, t.hyp_raw AS hyp_raw_text FROM clips c
          JOIN transcripts t ON t.run_id = c.run_id AND t.utt_id = c.utt_id)
    GROUP BY run_id, kind
)
SELECT * FROM final;
