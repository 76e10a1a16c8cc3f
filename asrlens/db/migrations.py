"""How a database file made by an older asrlens is brought to this schema.

schema.sql is the one description of every table. A file at an older version is migrated in
three steps, inside one transaction (asrlens.db.apply_schema):

1. every column that schema.sql's tables have and the file's same-named tables lack is
   added (`ALTER TABLE t ADD COLUMN c TYPE [DEFAULT d]`, read from a fresh in-memory
   database built from schema.sql, so a column is written once, in schema.sql);
2. schema.sql itself: tables the file lacks, and every view, are created;
3. the statements of MIGRATIONS (asrlens.db) for each version after the file's, in order:
   what adding a column cannot say (filling it for existing rows). They run last, so every
   table they touch exists, whatever version the file was at.

Adding a column to an existing table is therefore one edit in schema.sql plus the
SCHEMA_VERSION bump in asrlens/db/__init__.py, with an entry in MIGRATIONS only when old rows
need values other than the column's DEFAULT (see docs/schema.md, "Changing the schema").
tests/test_migrations.py migrates a file of every older version (tests/fixtures/schema/)
and compares every table's columns and types with a fresh database.
"""

from __future__ import annotations

import duckdb

_COLUMNS_SQL = """
    select c.table_name, c.column_name, c.data_type, c.column_default
    from duckdb_columns() as c
    join duckdb_tables() as t using (table_oid)
    where c.database_name = current_database() and c.schema_name = current_schema()
    order by c.table_name, c.column_index
"""


def table_columns(conn: duckdb.DuckDBPyConnection) -> dict[str, dict[str, tuple[str, str]]]:
    """Every base table of the current schema: column -> (type, default expression or None),
    in column order."""
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for table, column, data_type, default in conn.execute(_COLUMNS_SQL).fetchall():
        out.setdefault(table, {})[column] = (data_type, default)
    return out


def schema_columns(schema_sql: str) -> dict[str, dict[str, tuple[str, str]]]:
    """table_columns of a fresh in-memory database built from `schema_sql`."""
    fresh = duckdb.connect(":memory:")
    try:
        fresh.execute(schema_sql)
        return table_columns(fresh)
    finally:
        fresh.close()


def added_columns(conn: duckdb.DuckDBPyConnection, schema_sql: str) -> list[str]:
    """The ALTER TABLE statements that give the file's tables every column schema.sql has
    (tables the file lacks are left to schema.sql's CREATE TABLE IF NOT EXISTS)."""
    have = table_columns(conn)
    statements = []
    for table, columns in schema_columns(schema_sql).items():
        if table not in have:
            continue
        for column, (data_type, default) in columns.items():
            if column not in have[table]:
                tail = f" DEFAULT {default}" if default is not None else ""
                statements.append(f'ALTER TABLE {table} ADD COLUMN "{column}" {data_type}{tail}')
    return statements
