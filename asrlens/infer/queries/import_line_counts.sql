-- How many hypotheses the file held, and the keys of its first three lines.
select count(*) as lines, list(key order by line)[1:3] as first_keys
from import_lines
