-- The extra labels-file columns stored for a dataset (utterance_labels.name), with how many
-- utterances have a value: offered when a --group-by label:NAME names no such column.
-- Parameters:
--   :dataset  datasets.name
with final as (
    select name, count(value) as utterances
    from utterance_labels
    where dataset = :dataset
    group by name
)

select * from final
order by name
