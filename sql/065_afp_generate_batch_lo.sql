-- afp_generate_batch_lo: a batch streamed into a large object from a query.
CREATE FUNCTION afp_generate_batch_lo(template jsonb, query text)
RETURNS oid
AS 'MODULE_PATHNAME', 'pg_afp_generate_batch_lo'
LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION afp_generate_batch_lo(jsonb, text) IS
'Generates ONE print file into a new large object (returns its oid) with one document per row of '
'the query, whose first column must be jsonb. Rows are read through a cursor 100 at a time and '
'each document is written to the large object when complete, so memory does not grow with the '
'number of documents. Read it with lo_get(oid) or lo_export; unlink with lo_unlink(oid).';
