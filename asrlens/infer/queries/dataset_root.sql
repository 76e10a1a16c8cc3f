-- The folder a dataset's audio paths are relative to.
select root from datasets where name = :name
