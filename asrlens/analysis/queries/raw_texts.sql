-- The raw texts of a run's scored files, for punctuation and casing: the labels' raw
-- transcript and the recognizer's output as decoded; the files from :lo to before :hi
-- (run_ops.sql). :run_id :lo :hi
with final as (
    select t.utt_id, u.transcript as ref_text, t.hyp_raw as hyp_text
    from transcripts t
    join runs r on r.run_id = t.run_id
    join utterances u on u.dataset = r.dataset and u.utt_id = t.utt_id
    join utterance_errors e on e.run_id = t.run_id and e.utt_id = t.utt_id
    where t.run_id = :run_id
      and (cast(:lo as varchar) is null or t.utt_id >= :lo)
      and (cast(:hi as varchar) is null or t.utt_id < :hi)
)

select * from final order by utt_id
