-- Schema afp: holds the extension's tables (queues, stored print files, delivery state, ...)
-- as they are added. The SQL functions themselves are created in the schema the extension is
-- installed into (CREATE EXTENSION afp [SCHEMA s]), so they are callable as afp_dump(...) etc.
-- The schema is owned by the extension and dropped with it.
CREATE SCHEMA afp;

COMMENT ON SCHEMA afp IS 'afp extension: tables and internal objects of the AFP document factory';
