-- One clock per decision (issue 13): a C.A.R.E. decision reads the instant its caller passed in,
-- and the rows it writes carry that instant, never the database's own now(). Otherwise a
-- caller deciding for one day (its `now`) spends the budget of another (the trigger of
-- migration 011 takes the day from the audit row's created_at).
--
-- These columns lose their default: a write that forgets its instant fails loudly instead of
-- quietly taking the database's clock.
ALTER TABLE care_audit ALTER COLUMN created_at DROP DEFAULT;
ALTER TABLE care_proposals ALTER COLUMN created_at DROP DEFAULT,
                           ALTER COLUMN expires_at DROP DEFAULT;
ALTER TABLE care_tasks ALTER COLUMN created_at DROP DEFAULT;
ALTER TABLE care_digests ALTER COLUMN created_at DROP DEFAULT;
ALTER TABLE care_schedule_runs ALTER COLUMN started_at DROP DEFAULT;

-- fte_store_reply (migration 003) as before, with the caller's instant `p_now` on every row it
-- writes: the reply, both audit rows, the ticket's and the inbound message's timestamps and the
-- run's metrics.
DROP FUNCTION fte_store_reply(text, uuid, text, text, text, jsonb, integer, integer, text, text,
                              text, text, jsonb, text, text, jsonb, text, jsonb, jsonb);

CREATE FUNCTION fte_store_reply(
    p_tenant text, p_inbound uuid, p_content text, p_status text, p_kind text,
    p_tool_calls jsonb, p_latency_ms integer, p_tokens integer,
    p_escalation_reason text,
    p_audit_event text, p_audit_reason text, p_audit_clause text, p_audit_payload jsonb,
    p_outbox_topic text, p_outbox_key text, p_outbox_event jsonb,
    p_inbound_status text, p_metrics jsonb, p_metric_dimensions jsonb, p_now timestamptz
) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    m record;
    v_reply uuid;
BEGIN
    IF p_now IS NULL THEN
        RAISE EXCEPTION 'fte_store_reply needs the caller''s instant' USING ERRCODE = '22004';
    END IF;
    SELECT id, conversation_id, customer_id, ticket_id, channel, subject INTO m
    FROM messages WHERE tenant_id = p_tenant AND id = p_inbound AND direction = 'inbound';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'inbound message % not found', p_inbound USING ERRCODE = 'P0002';
    END IF;

    INSERT INTO messages (tenant_id, conversation_id, customer_id, ticket_id, channel,
                          direction, role, content, subject, in_reply_to, status, tool_calls,
                          latency_ms, tokens_used, metadata, created_at)
    VALUES (p_tenant, m.conversation_id, m.customer_id, m.ticket_id, m.channel, 'outbound',
            'agent', p_content, m.subject, m.id, p_status, p_tool_calls, p_latency_ms,
            p_tokens, jsonb_build_object('kind', p_kind), p_now)
    ON CONFLICT (tenant_id, in_reply_to) WHERE role = 'agent' DO NOTHING
    RETURNING id INTO v_reply;
    IF v_reply IS NULL THEN
        RETURN NULL;
    END IF;

    IF p_escalation_reason IS NOT NULL AND m.ticket_id IS NOT NULL THEN
        UPDATE tickets SET status = 'escalated', escalation_reason = p_escalation_reason,
                           updated_at = p_now
        WHERE tenant_id = p_tenant AND id = m.ticket_id;
        INSERT INTO care_audit (tenant_id, event_type, actor, reason, policy_clause,
                                customer_id, message_id, payload, created_at)
        VALUES (p_tenant, 'would_escalate', 'fte-agent', p_escalation_reason,
                'PR3.escalation_detector', m.customer_id, m.id,
                jsonb_build_object('ticket_id', m.ticket_id), p_now);
    END IF;

    INSERT INTO care_audit (tenant_id, event_type, actor, reason, policy_clause, customer_id,
                            message_id, payload, created_at)
    VALUES (p_tenant, p_audit_event, 'fte-agent', p_audit_reason, p_audit_clause,
            m.customer_id, v_reply, p_audit_payload, p_now);

    IF p_outbox_topic IS NOT NULL THEN
        INSERT INTO outbox (tenant_id, topic, message_key, payload)
        VALUES (p_tenant, p_outbox_topic, p_outbox_key,
                jsonb_set(p_outbox_event, '{data,message_id}', to_jsonb(v_reply::text)));
    END IF;

    UPDATE messages SET status = p_inbound_status, processed_at = p_now,
                        tool_calls = p_tool_calls
    WHERE tenant_id = p_tenant AND id = m.id;

    INSERT INTO agent_metrics (tenant_id, message_id, conversation_id, channel, metric_name,
                               metric_value, dimensions, recorded_at)
    SELECT p_tenant, m.id, m.conversation_id, m.channel, key, value::double precision,
           p_metric_dimensions, p_now
    FROM jsonb_each_text(p_metrics);

    RETURN v_reply;
END
$$;
