-- Characters per minute a run wrote on each kind of probe clip (view probe_results), in
-- the order the clips are made. :run_id
select *
from probe_results
where run_id = :run_id
order by case kind when 'silence' then 0 when 'white_noise' then 1 when 'pink_noise' then 2
                   when 'tone' then 3 when 'speech_shaped_noise' then 4 else 5 end, kind
