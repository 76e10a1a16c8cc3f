-- Drop the temporary tables of an import (import_stage, import_match, import_cover).
drop table if exists import_lines;
drop table if exists import_bad;
drop table if exists import_matches;
drop table if exists import_covered;
drop table if exists import_found_issues;
