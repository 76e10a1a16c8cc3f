-- Temporary tables of one import (dropped by import_unstage): the file's hypotheses (line,
-- key, text, and the key read as a path: its posix form, file name and stem) and the lines
-- that could not be parsed.
create or replace temp table import_lines (
    line  INTEGER, key VARCHAR, text VARCHAR, posix VARCHAR, name VARCHAR, stem VARCHAR
);
create or replace temp table import_bad (line INTEGER, key VARCHAR, message VARCHAR);
