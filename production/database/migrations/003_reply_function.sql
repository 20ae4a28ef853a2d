-- Storing the agent's reply in one round trip: the escalation (ticket status + audit), the
-- reply itself (at most one per inbound message), the executor's audit row and, when the gate
-- allowed it, the dispatcher's outbox event, the inbound message's final status and the run's
-- metrics. The caller holds the inbound row lock (SELECT ... FOR UPDATE) in the same
-- transaction. Returns the reply id, or NULL when the message already had a reply.

CREATE FUNCTION fte_store_reply(
    p_tenant text, p_inbound uuid, p_content text, p_status text, p_kind text,
    p_tool_calls jsonb, p_latency_ms integer, p_tokens integer,
    p_escalation_reason text,
    p_audit_event text, p_audit_reason text, p_audit_clause text, p_audit_payload jsonb,
    p_outbox_topic text, p_outbox_key text, p_outbox_event jsonb,
    p_inbound_status text, p_metrics jsonb, p_metric_dimensions jsonb
) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    m record;
    v_reply uuid;
BEGIN
    SELECT id, conversation_id, customer_id, ticket_id, channel, subject INTO m
    FROM messages WHERE tenant_id = p_tenant AND id = p_inbound AND direction = 'inbound';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'inbound message % not found', p_inbound USING ERRCODE = 'P0002';
    END IF;

    INSERT INTO messages (tenant_id, conversation_id, customer_id, ticket_id, channel,
                          direction, role, content, subject, in_reply_to, status, tool_calls,
                          latency_ms, tokens_used, metadata)
    VALUES (p_tenant, m.conversation_id, m.customer_id, m.ticket_id, m.channel, 'outbound',
            'agent', p_content, m.subject, m.id, p_status, p_tool_calls, p_latency_ms,
            p_tokens, jsonb_build_object('kind', p_kind))
    ON CONFLICT (tenant_id, in_reply_to) WHERE role = 'agent' DO NOTHING
    RETURNING id INTO v_reply;
    IF v_reply IS NULL THEN
        RETURN NULL;
    END IF;

    IF p_escalation_reason IS NOT NULL AND m.ticket_id IS NOT NULL THEN
        UPDATE tickets SET status = 'escalated', escalation_reason = p_escalation_reason,
                           updated_at = now()
        WHERE tenant_id = p_tenant AND id = m.ticket_id;
        INSERT INTO care_audit (tenant_id, event_type, actor, reason, policy_clause,
                                customer_id, message_id, payload)
        VALUES (p_tenant, 'would_escalate', 'fte-agent', p_escalation_reason,
                'PR3.escalation_detector', m.customer_id, m.id,
                jsonb_build_object('ticket_id', m.ticket_id));
    END IF;

    INSERT INTO care_audit (tenant_id, event_type, actor, reason, policy_clause, customer_id,
                            message_id, payload)
    VALUES (p_tenant, p_audit_event, 'fte-agent', p_audit_reason, p_audit_clause,
            m.customer_id, v_reply, p_audit_payload);

    IF p_outbox_topic IS NOT NULL THEN
        INSERT INTO outbox (tenant_id, topic, message_key, payload)
        VALUES (p_tenant, p_outbox_topic, p_outbox_key,
                jsonb_set(p_outbox_event, '{data,message_id}', to_jsonb(v_reply::text)));
    END IF;

    UPDATE messages SET status = p_inbound_status, processed_at = now(),
                        tool_calls = p_tool_calls
    WHERE tenant_id = p_tenant AND id = m.id;

    INSERT INTO agent_metrics (tenant_id, message_id, conversation_id, channel, metric_name,
                               metric_value, dimensions)
    SELECT p_tenant, m.id, m.conversation_id, m.channel, key, value::double precision,
           p_metric_dimensions
    FROM jsonb_each_text(p_metrics);

    RETURN v_reply;
END
$$;
