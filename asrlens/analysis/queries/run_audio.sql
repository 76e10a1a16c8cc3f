-- The audio of each utterance of a run's dataset: the file as an absolute path and, for a
-- span of a longer recording (utterance_spans), its start and end (NULL: the whole file;
-- word times count from the span's start, as infer read only the span). The utterances
-- from :lo to before :hi (run_ops.sql). :dataset :lo :hi
with final as (
    select u.utt_id, d.root || '/' || u.audio_path as audio, s.start_s, s.end_s
    from utterances u
    join datasets d on d.name = u.dataset
    left join utterance_spans s on s.dataset = u.dataset and s.utt_id = u.utt_id
    where u.dataset = :dataset and u.audio_path is not null
      and (cast(:lo as varchar) is null or u.utt_id >= :lo)
      and (cast(:hi as varchar) is null or u.utt_id < :hi)
)

select * from final
