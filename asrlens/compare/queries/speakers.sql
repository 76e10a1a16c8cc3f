-- The speaker of each utterance of a dataset (utterances.speaker, NULL when unknown): the
-- groups of `--group-by speaker` and the clusters of the speaker bootstrap.
-- Parameters:
--   :dataset  datasets.name
with final as (
    select utt_id, speaker
    from utterances
    where dataset = :dataset
)

select * from final
