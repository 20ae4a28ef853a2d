-- How many passages of a tenant's knowledge base contain each lexeme. The full-text half of
-- the hybrid search ORs only a question's rarest lexemes: at 10k passages the common ones
-- ("task", "project") match nine passages in ten, and ranking all of those cost ~700 ms for
-- almost no signal (measured in bench/kb_search.py; see specs/benchmarks.md).
CREATE TABLE knowledge_lexemes (
    tenant_id text NOT NULL REFERENCES tenants (id),
    lexeme    text NOT NULL,
    ndoc      integer NOT NULL,
    PRIMARY KEY (tenant_id, lexeme)
);

-- Recount one tenant's lexemes (run in the transaction that changed its passages).
CREATE FUNCTION fte_refresh_knowledge_lexemes(p_tenant text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_count integer;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('knowledge_lexemes|' || p_tenant, 0));
    DELETE FROM knowledge_lexemes WHERE tenant_id = p_tenant;
    INSERT INTO knowledge_lexemes (tenant_id, lexeme, ndoc)
    SELECT p_tenant, word, ndoc
    FROM ts_stat(format('SELECT search_tsv FROM knowledge_base WHERE tenant_id = %L', p_tenant));
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END
$$;

SELECT fte_refresh_knowledge_lexemes(id) FROM tenants;
