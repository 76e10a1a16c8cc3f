-- A run's keyword results per term (all terms first: term NULL), the terms missed most
-- first (view keyword_results). :run_id
select * from keyword_results
where run_id = :run_id
order by term is not null, ref_occurrences - found desc, term
