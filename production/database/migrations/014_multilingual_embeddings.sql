-- The local embedding model becomes Universal Sentence Encoder multilingual v3 (512
-- dimensions; OpenAI's embedder is asked for 512 too), so the knowledge base's vectors are
-- 512-dimensional. Vectors of the old model cannot be converted: they are dropped with their
-- model's name, and the next start (`load_if_empty`) or `fte kb load` embeds the passages
-- again (a section whose stored model differs from the embedder's is re-embedded).
DROP INDEX knowledge_base_embedding_hnsw;
UPDATE knowledge_base SET embedding = NULL, embedding_model = NULL;
ALTER TABLE knowledge_base ALTER COLUMN embedding TYPE vector(512);
CREATE INDEX knowledge_base_embedding_hnsw
    ON knowledge_base USING hnsw (embedding vector_cosine_ops);
