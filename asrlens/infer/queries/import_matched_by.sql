-- Lines of an import used as hypotheses by how they named their utterance ('id', 'path',
-- 'file name', 'stem'), in the order each way first matched.
select how, count(*) as n
from import_matches
where utt_id is not null and line = first_line
group by how
order by min(line)
