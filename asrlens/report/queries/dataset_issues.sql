-- Ingest issues of a dataset (:dataset) by kind: how many, with up to :examples examples each.
with numbered as (
    select
        kind, utt_id, path, line, message,
        count(*) over (partition by kind)                                        as n,
        row_number() over (partition by kind order by line nulls last, path, utt_id) as example_rank
    from ingest_issues
    where dataset = :dataset
),

final as (
    select kind, n, example_rank, utt_id, path, line, message
    from numbered
    where example_rank <= :examples
    order by n desc, kind, example_rank
)

select * from final
