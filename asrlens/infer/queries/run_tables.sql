-- The base tables that hold rows of runs: those with a run_id column.
select c.table_name
from information_schema.columns as c
join information_schema.tables as t
    on t.table_name = c.table_name and t.table_schema = c.table_schema
where c.column_name = 'run_id' and t.table_type = 'BASE TABLE'
    and c.table_schema = current_schema()
