-- Which of the failure tables and views the database holds (a file written by an older
-- asrlens, opened read-only, has none of them).
select table_name
from information_schema.tables
where table_name in ('hallucination_summary', 'hallucination_file_signals',
                     'formatting_summary', 'formatting_errors', 'punctuation_summary',
                     'punctuation_substitutions', 'casing_summary', 'keyword_results')
