-- Every ingested dataset, by name.
select name from datasets order by name
