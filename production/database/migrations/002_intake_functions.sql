-- Intake in one round trip. Accepting a message is ~15 statements (dedupe check, identifier
-- locks, customer resolve-or-create, identifiers, conversation, message, channel switch,
-- ticket, outbox); as separate round trips they cost more CPU in the API and in PostgreSQL
-- than the work itself. Both the API and the worker call these, so there is one
-- implementation of "store an inbound message once".

CREATE FUNCTION fte_ingest_inbound(
    p_tenant text, p_channel text, p_external_id text, p_content text, p_subject text,
    p_name text, p_email text, p_phone text, p_id_types text[], p_id_values text[],
    p_metadata jsonb, p_received_at timestamptz, p_request_hash text, p_window interval
) RETURNS TABLE (out_message_id uuid, out_customer_id uuid, out_conversation_id uuid,
                 out_created boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_customer uuid;
    v_conversation uuid;
    v_previous_channel text;
    v_message uuid;
    i integer;
BEGIN
    SELECT m.id, m.customer_id, m.conversation_id INTO v_message, v_customer, v_conversation
    FROM messages m
    WHERE m.tenant_id = p_tenant AND m.channel = p_channel AND m.external_id = p_external_id
      AND m.direction = 'inbound';
    IF FOUND THEN
        RETURN QUERY SELECT v_message, v_customer, v_conversation, false;
        RETURN;
    END IF;
    IF coalesce(array_length(p_id_types, 1), 0) = 0 THEN
        RAISE EXCEPTION 'an inbound message needs an email address or a phone number'
            USING ERRCODE = '22023';
    END IF;

    -- Serialize concurrent resolves of the same identifiers (callers pass them sorted).
    FOR i IN 1 .. array_length(p_id_types, 1) LOOP
        PERFORM pg_advisory_xact_lock(
            hashtextextended(p_tenant || '|' || p_id_types[i] || '|' || p_id_values[i], 0));
    END LOOP;

    -- The oldest customer owning any identifier. Linking two owners is a merge decision,
    -- taken by the identity service, not here.
    SELECT ci.customer_id INTO v_customer
    FROM customer_identifiers ci JOIN customers c ON c.id = ci.customer_id
    WHERE ci.tenant_id = p_tenant
      AND (ci.identifier_type, ci.identifier_value) IN (
          SELECT * FROM unnest(p_id_types, p_id_values))
    ORDER BY c.created_at
    LIMIT 1;

    IF v_customer IS NULL THEN
        INSERT INTO customers (tenant_id, name, email, phone)
        VALUES (p_tenant, p_name, p_email, p_phone)
        RETURNING id INTO v_customer;
    ELSE
        UPDATE customers
        SET name = coalesce(name, p_name), email = coalesce(email, p_email),
            phone = coalesce(phone, p_phone), updated_at = now()
        WHERE tenant_id = p_tenant AND id = v_customer
          AND (name IS NULL AND p_name IS NOT NULL OR email IS NULL AND p_email IS NOT NULL
               OR phone IS NULL AND p_phone IS NOT NULL);
    END IF;

    INSERT INTO customer_identifiers (tenant_id, customer_id, identifier_type, identifier_value)
    SELECT p_tenant, v_customer, t, v FROM unnest(p_id_types, p_id_values) AS u (t, v)
    ON CONFLICT (tenant_id, identifier_type, identifier_value) DO NOTHING;

    SELECT c.id, c.current_channel INTO v_conversation, v_previous_channel
    FROM conversations c
    WHERE c.tenant_id = p_tenant AND c.customer_id = v_customer AND c.status <> 'closed'
      AND c.last_message_at >= p_received_at - p_window
    ORDER BY c.last_message_at DESC
    LIMIT 1;
    IF v_conversation IS NULL THEN
        INSERT INTO conversations (tenant_id, customer_id, initial_channel, current_channel)
        VALUES (p_tenant, v_customer, p_channel, p_channel)
        RETURNING id INTO v_conversation;
        v_previous_channel := p_channel;
    END IF;

    INSERT INTO messages (tenant_id, conversation_id, customer_id, channel, direction, role,
                          content, subject, external_id, request_hash, metadata, created_at)
    VALUES (p_tenant, v_conversation, v_customer, p_channel, 'inbound', 'customer', p_content,
            p_subject, p_external_id, p_request_hash, p_metadata, p_received_at)
    ON CONFLICT (tenant_id, channel, external_id) WHERE direction = 'inbound' DO NOTHING
    RETURNING id INTO v_message;
    IF v_message IS NULL THEN  -- a concurrent ingest of the same key won the insert
        SELECT m.id, m.customer_id, m.conversation_id INTO v_message, v_customer, v_conversation
        FROM messages m
        WHERE m.tenant_id = p_tenant AND m.channel = p_channel
          AND m.external_id = p_external_id AND m.direction = 'inbound';
        RETURN QUERY SELECT v_message, v_customer, v_conversation, false;
        RETURN;
    END IF;

    UPDATE conversations
    SET last_message_at = greatest(last_message_at, p_received_at), current_channel = p_channel,
        channel_switches = channel_switches || CASE
            WHEN p_channel <> v_previous_channel THEN jsonb_build_array(jsonb_build_object(
                'from', v_previous_channel, 'to', p_channel, 'at', p_received_at))
            ELSE '[]'::jsonb END
    WHERE tenant_id = p_tenant AND id = v_conversation;

    RETURN QUERY SELECT v_message, v_customer, v_conversation, true;
END
$$;

-- A web form submission: the inbound message, its ticket and the worker's event, atomically.
-- A replayed idempotency key returns the first ticket (and says if the request differed).
CREATE FUNCTION fte_submit_web_form(
    p_tenant text, p_external_id text, p_request_hash text, p_name text, p_email text,
    p_phone text, p_id_types text[], p_id_values text[], p_subject text, p_category text,
    p_priority text, p_content text, p_metadata jsonb, p_received_at timestamptz,
    p_window interval, p_topic text, p_key text, p_event jsonb
) RETURNS TABLE (out_ticket_number text, out_created_at timestamptz, out_replayed boolean,
                 out_conflict boolean, out_customer_id uuid, out_conversation_id uuid,
                 out_message_id uuid)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    v_ticket uuid;
    v_number text;
    v_created timestamptz;
    v_hash text;
BEGIN
    SELECT * INTO r FROM fte_ingest_inbound(
        p_tenant, 'web_form', p_external_id, p_content, p_subject, p_name, p_email, p_phone,
        p_id_types, p_id_values, p_metadata, p_received_at, p_request_hash, p_window);
    IF NOT r.out_created THEN
        SELECT m.request_hash, t.ticket_number, m.created_at INTO v_hash, v_number, v_created
        FROM messages m JOIN tickets t ON t.id = m.ticket_id
        WHERE m.tenant_id = p_tenant AND m.id = r.out_message_id;
        RETURN QUERY SELECT v_number, v_created, true, v_hash IS DISTINCT FROM p_request_hash,
                            r.out_customer_id, r.out_conversation_id, r.out_message_id;
        RETURN;
    END IF;

    INSERT INTO tickets (tenant_id, customer_id, conversation_id, source_channel,
                         source_message_id, subject, category, priority)
    VALUES (p_tenant, r.out_customer_id, r.out_conversation_id, 'web_form', r.out_message_id,
            p_subject, p_category, p_priority)
    RETURNING id, ticket_number, created_at INTO v_ticket, v_number, v_created;

    UPDATE messages SET ticket_id = v_ticket
    WHERE tenant_id = p_tenant AND id = r.out_message_id;

    INSERT INTO outbox (tenant_id, topic, message_key, payload)
    VALUES (p_tenant, p_topic, p_key, jsonb_set(jsonb_set(p_event,
            '{data,message_id}', to_jsonb(r.out_message_id::text)),
            '{data,ticket_id}', to_jsonb(v_ticket::text)));

    RETURN QUERY SELECT v_number, v_created, false, false, r.out_customer_id,
                        r.out_conversation_id, r.out_message_id;
END
$$;
