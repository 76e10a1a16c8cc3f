-- Utterances whose audio ingest could decode: the files `asrlens explore` picks from.
-- Parameters: :dataset (NULL: every dataset), :utt_id (NULL: every utterance).
-- Ordered so that a seeded random choice over the rows is reproducible.
with readable as (
    select
        u.dataset,
        u.utt_id,
        u.transcript,
        u.normalized_transcript,
        u.audio_path,
        d.root,
        a.sample_rate,
        a.channels,
        a.frames,
        a.duration_s
    from utterances u
    join datasets d on d.name = u.dataset
    join audio_files a on a.dataset = u.dataset and a.path = u.audio_path
    where a.sample_rate > 0
      and a.frames > 0
      and (cast(:dataset as varchar) is null or u.dataset = cast(:dataset as varchar))
      and (cast(:utt_id as varchar) is null or u.utt_id = cast(:utt_id as varchar))
),

final as (
    select * from readable
)

select * from final order by dataset, utt_id
