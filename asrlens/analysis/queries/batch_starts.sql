-- The first utt_id of each batch of :size utterances of a dataset, in utt_id order (the
-- bounds of analyze's batches: asrlens/analysis/batches.py). :dataset :size
with numbered as (
    select utt_id, row_number() over (order by utt_id) - 1 as nth
    from utterances
    where dataset = :dataset
)

select utt_id from numbered where nth % :size = 0 order by utt_id
