-- The agent brain: which embedding model produced each knowledge-base vector (vectors of two
-- models are not comparable, so a search only looks at its own model's), and the sentiment
-- trend kept on the conversation.
ALTER TABLE knowledge_base ADD COLUMN embedding_model text;
ALTER TABLE knowledge_base ADD COLUMN content_hash text;

-- Record one inbound message's sentiment (0..1) on the message and append it to its
-- conversation's trend (the last 20 scores), in one statement.
CREATE FUNCTION fte_record_sentiment(p_tenant text, p_message uuid, p_score real)
RETURNS void LANGUAGE sql AS $$
    WITH m AS (
        UPDATE messages SET sentiment = p_score
        WHERE tenant_id = p_tenant AND id = p_message
        RETURNING conversation_id, created_at
    )
    UPDATE conversations c
    SET sentiment_score = p_score,
        sentiment_trend = (
            SELECT coalesce(jsonb_agg(e ORDER BY ord), '[]'::jsonb)
            FROM (
                SELECT e, ord FROM jsonb_array_elements(
                    c.sentiment_trend || jsonb_build_array(jsonb_build_object(
                        'message_id', p_message, 'score', round(p_score::numeric, 3),
                        'at', (SELECT created_at FROM m)))
                ) WITH ORDINALITY AS t(e, ord)
                ORDER BY ord DESC LIMIT 20
            ) last20
        )
    FROM m
    WHERE c.tenant_id = p_tenant AND c.id = m.conversation_id;
$$;
