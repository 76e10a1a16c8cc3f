-- A run's files with a hallucination signal, most events first, with their events and the
-- engine's segment signals (hallucination_file_signals). :run_id :limit
with events as (
    select utt_id,
           string_agg(kind || coalesce(': ' || text, '') || coalesce(' (' || detail || ')', '')
                      || coalesce(' at ' || round(start_s, 2) || ' s', ''), '; '
                      order by event_index) as events,
           count(*) as n_events
    from hallucination_events
    where run_id = :run_id
    group by utt_id
),

final as (
    select f.utt_id, f.ref_words, f.hyp_words, f.length_ratio, f.loops, f.loop_words,
           f.start_inserted, f.end_inserted, f.inserted, f.inserted_in_silence, f.silence_s,
           f.max_no_speech_prob, f.max_compression_ratio, e.events, e.n_events,
           t.hyp_raw
    from hallucination_file_signals f
    join events e using (utt_id)
    left join transcripts t on t.run_id = f.run_id and t.utt_id = f.utt_id
    where f.run_id = :run_id and f.flagged
)

select * from final order by n_events desc, loop_words desc, utt_id limit :limit
