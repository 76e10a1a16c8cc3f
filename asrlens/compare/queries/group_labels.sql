-- One labels-file column's value for each utterance of a dataset (utterance_labels), for
-- grouping files by a label such as speaker or accent.
-- Parameters:
--   :dataset  datasets.name
--   :name     the column (utterance_labels.name)
with final as (
    select utt_id, value
    from utterance_labels
    where dataset = :dataset and name = :name
)

select * from final
