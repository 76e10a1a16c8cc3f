-- Utterances an import covers, and how many of them have no hypothesis.
select count(*) as files, count(*) filter (where line is null) as missing
from import_covered
