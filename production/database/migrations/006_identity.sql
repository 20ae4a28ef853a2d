-- Cross-channel identity: one person is one customer whatever channel they write on.
--
-- Intake (fte_ingest_inbound, replaced here with the same signature and the same dedupe,
-- conversation-window and channel-switch behaviour as migration 002) now also decides, per
-- message, what its identifiers prove (the rule is production.domain.identity.decide):
--   * nobody owns them                     -> a new customer with all of them;
--   * one customer owns some               -> it gets the message and the others (a link);
--   * several customers own them, and at most one of them (counting the message's own
--     unowned email) has an email address  -> proven one person: merged into the oldest;
--   * otherwise (two different emails)     -> no merge: a 'candidate' for a human, and the
--     message goes to the owner of the identifier of the channel it came on (an unowned
--     email becomes a customer of its own).
--
-- A merge moves the duplicate's identifiers, conversations, messages (and with them their
-- agent_metrics rows, which point at messages and conversations), tickets and C.A.R.E. state
-- and history to the survivor, and keeps the duplicate's row as a tombstone pointing at it
-- (merged_into): nothing is deleted, care_audit rows (append-only) that name the duplicate stay
-- resolvable, and an intake that resolved the duplicate just before the merge follows the
-- pointer. Every merge, and every candidate, is a customer_merges row with its evidence.
--
-- Locking: intake takes the identifiers' advisory locks (sorted, as before), then row locks on
-- the owners: FOR KEY SHARE to add a message, FOR NO KEY UPDATE to link new identifiers (two
-- links to one customer serialize, so two emails cannot both be linked to it), FOR UPDATE to
-- merge. A merge therefore waits for, or is followed by, anyone using the duplicate.

ALTER TABLE tenants ADD COLUMN default_region text NOT NULL DEFAULT 'US'
    CHECK (default_region ~ '^[A-Z]{2}$');
COMMENT ON COLUMN tenants.default_region IS
    'ISO 3166 region for phone numbers written in national format';

ALTER TABLE customers
    ADD COLUMN merged_into uuid REFERENCES customers (id),
    ADD COLUMN merged_at timestamptz,
    ADD CONSTRAINT customers_not_merged_into_itself CHECK (merged_into <> id),
    ADD CONSTRAINT customers_merged_at_with_pointer
        CHECK ((merged_into IS NULL) = (merged_at IS NULL));
CREATE INDEX customers_merged_into_idx ON customers (tenant_id, merged_into)
    WHERE merged_into IS NOT NULL;

CREATE TABLE customer_merges (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id       text NOT NULL REFERENCES tenants (id),
    -- For a merge: who stayed and who was folded into it. For a candidate: the suggested
    -- survivor (the older customer) and the other one.
    survivor_id     uuid NOT NULL REFERENCES customers (id),
    merged_id       uuid NOT NULL REFERENCES customers (id),
    -- merged: done. candidate: waiting for a human. accepted: a human (or a later proof)
    -- merged the pair. dismissed: a human said they are different people (never proposed
    -- again). superseded: a merge made the pair moot.
    status          text NOT NULL
                    CHECK (status IN ('merged', 'candidate', 'accepted', 'dismissed',
                                      'superseded')),
    reason          text NOT NULL CHECK (length(btrim(reason)) > 0),
    evidence        jsonb NOT NULL DEFAULT '{}'::jsonb,
    actor           text NOT NULL CHECK (length(btrim(actor)) > 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    decided_by      text,
    decided_at      timestamptz,
    decision_reason text,
    CHECK (survivor_id <> merged_id)
);
CREATE UNIQUE INDEX customer_merges_one_open_candidate_per_pair
    ON customer_merges (tenant_id, least(survivor_id, merged_id), greatest(survivor_id, merged_id))
    WHERE status = 'candidate';
CREATE INDEX customer_merges_status_idx ON customer_merges (tenant_id, status, created_at);
CREATE INDEX customer_merges_survivor_idx ON customer_merges (tenant_id, survivor_id);
CREATE INDEX customer_merges_merged_idx ON customer_merges (tenant_id, merged_id);

-- Lock a customer row and return the live customer: a tombstone's pointer is followed (and the
-- survivor locked in turn). p_mode: 'use' (FOR KEY SHARE), 'link' (FOR NO KEY UPDATE),
-- 'merge' (FOR UPDATE).
CREATE FUNCTION fte_lock_customer(p_tenant text, p_customer uuid, p_mode text) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    v_next uuid;
BEGIN
    LOOP
        IF p_mode = 'merge' THEN
            SELECT merged_into INTO v_next FROM customers
            WHERE tenant_id = p_tenant AND id = p_customer FOR UPDATE;
        ELSIF p_mode = 'link' THEN
            SELECT merged_into INTO v_next FROM customers
            WHERE tenant_id = p_tenant AND id = p_customer FOR NO KEY UPDATE;
        ELSE
            SELECT merged_into INTO v_next FROM customers
            WHERE tenant_id = p_tenant AND id = p_customer FOR KEY SHARE;
        END IF;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'customer % not found', p_customer USING ERRCODE = 'P0002';
        END IF;
        IF v_next IS NULL THEN
            RETURN p_customer;
        END IF;
        p_customer := v_next;
    END LOOP;
END
$$;

-- The advisory locks intake takes, for every identifier of these customers, in the same
-- order intake takes them (type, then value, byte order = Python's str order).
CREATE FUNCTION fte_lock_identifiers_of(p_tenant text, p_customers uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT identifier_type, identifier_value FROM customer_identifiers
        WHERE tenant_id = p_tenant AND customer_id = ANY (p_customers)
        ORDER BY identifier_type COLLATE "C", identifier_value COLLATE "C"
    LOOP
        PERFORM pg_advisory_xact_lock(hashtextextended(
            p_tenant || '|' || r.identifier_type || '|' || r.identifier_value, 0));
    END LOOP;
END
$$;

-- Fold p_merged into p_survivor and return the merge record's id. The caller holds FOR UPDATE
-- locks on both rows (fte_lock_customer 'merge'), in one transaction: any failure rolls the
-- whole merge back.
CREATE FUNCTION fte_merge_locked(p_tenant text, p_survivor uuid, p_merged uuid, p_actor text,
                                 p_reason text, p_evidence jsonb) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    v_merged customers;
    v_mine customer_care_state;
    v_theirs customer_care_state;
    v_state text;
    v_folded jsonb := '[]'::jsonb;
    v_identifiers integer;
    v_conversations integer;
    v_messages integer;
    v_tickets integer;
    v_history integer;
    v_id uuid;
BEGIN
    SELECT * INTO v_merged FROM customers WHERE tenant_id = p_tenant AND id = p_merged;
    IF NOT FOUND OR NOT EXISTS (SELECT 1 FROM customers
                                WHERE tenant_id = p_tenant AND id = p_survivor
                                  AND merged_into IS NULL) THEN
        RAISE EXCEPTION 'both customers must exist in tenant %', p_tenant
            USING ERRCODE = 'P0002';
    END IF;
    IF p_survivor = p_merged OR v_merged.merged_into IS NOT NULL THEN
        RAISE EXCEPTION 'customer % cannot be merged into %', p_merged, p_survivor
            USING ERRCODE = '22023';
    END IF;

    UPDATE customer_identifiers SET customer_id = p_survivor
    WHERE tenant_id = p_tenant AND customer_id = p_merged;
    GET DIAGNOSTICS v_identifiers = ROW_COUNT;
    UPDATE conversations SET customer_id = p_survivor
    WHERE tenant_id = p_tenant AND customer_id = p_merged;
    GET DIAGNOSTICS v_conversations = ROW_COUNT;
    UPDATE messages SET customer_id = p_survivor
    WHERE tenant_id = p_tenant AND customer_id = p_merged;
    GET DIAGNOSTICS v_messages = ROW_COUNT;
    UPDATE tickets SET customer_id = p_survivor, updated_at = now()
    WHERE tenant_id = p_tenant AND customer_id = p_merged;
    GET DIAGNOSTICS v_tickets = ROW_COUNT;
    -- (Every entity type named, so the (tenant, type, id) indexes serve these lookups.)
    UPDATE customer_care_state_history SET entity_id = p_survivor
    WHERE tenant_id = p_tenant AND entity_type IN ('lead', 'contact', 'account')
      AND entity_id = p_merged;
    GET DIAGNOSTICS v_history = ROW_COUNT;

    -- C.A.R.E. state: moved when the survivor has none; otherwise folded into the survivor's
    -- the safe way (an open escalation stays open, hands-off only if both allowed it, the
    -- state of the more recent signal) and the duplicate's row, kept in the evidence, removed.
    FOR v_theirs IN
        SELECT * FROM customer_care_state
        WHERE tenant_id = p_tenant AND entity_type IN ('lead', 'contact', 'account')
          AND entity_id = p_merged
        FOR UPDATE
    LOOP
        SELECT * INTO v_mine FROM customer_care_state
        WHERE tenant_id = p_tenant AND entity_type = v_theirs.entity_type
          AND entity_id = p_survivor
        FOR UPDATE;
        IF NOT FOUND THEN
            UPDATE customer_care_state SET entity_id = p_survivor, updated_at = now()
            WHERE id = v_theirs.id;
            v_state := v_theirs.care_state;
        ELSE
            v_state := CASE
                WHEN coalesce(v_theirs.last_signal_at, '-infinity')
                     > coalesce(v_mine.last_signal_at, '-infinity')
                THEN v_theirs.care_state ELSE v_mine.care_state END;
            UPDATE customer_care_state SET
                care_state = v_state,
                hands_off_enabled = v_mine.hands_off_enabled AND v_theirs.hands_off_enabled,
                escalation_status = CASE
                    WHEN 'open' IN (v_mine.escalation_status, v_theirs.escalation_status)
                    THEN 'open'
                    ELSE coalesce(v_mine.escalation_status, v_theirs.escalation_status) END,
                last_signal_at = greatest(v_mine.last_signal_at, v_theirs.last_signal_at),
                updated_at = now()
            WHERE id = v_mine.id;
            DELETE FROM customer_care_state WHERE id = v_theirs.id;
            v_folded := v_folded || to_jsonb(v_theirs);
        END IF;
        INSERT INTO customer_care_state_history (tenant_id, entity_type, entity_id, from_state,
                                                 to_state, reason, actor)
        VALUES (p_tenant, v_theirs.entity_type, p_survivor,
                coalesce(v_mine.care_state, v_theirs.care_state), v_state,
                'customer ' || p_merged || ' (state ' || v_theirs.care_state
                    || ') merged into this one',
                p_actor);
    END LOOP;

    UPDATE customers s
    SET name = coalesce(s.name, v_merged.name), email = coalesce(s.email, v_merged.email),
        phone = coalesce(s.phone, v_merged.phone), metadata = v_merged.metadata || s.metadata,
        updated_at = now()
    WHERE s.tenant_id = p_tenant AND s.id = p_survivor;
    -- Earlier tombstones of the duplicate now point straight at the survivor.
    UPDATE customers SET merged_into = p_survivor
    WHERE tenant_id = p_tenant AND merged_into = p_merged;
    UPDATE customers SET merged_into = p_survivor, merged_at = now(), updated_at = now()
    WHERE tenant_id = p_tenant AND id = p_merged;

    -- Open candidates: the pair's is settled; the duplicate's others move to the survivor
    -- (or are superseded when the survivor already has one with the same customer).
    UPDATE customer_merges
    SET status = 'accepted', decided_by = p_actor, decided_at = now(), decision_reason = p_reason
    WHERE tenant_id = p_tenant AND status = 'candidate'
      AND least(survivor_id, merged_id) = least(p_survivor, p_merged)
      AND greatest(survivor_id, merged_id) = greatest(p_survivor, p_merged);
    UPDATE customer_merges c
    SET status = 'superseded', decided_by = p_actor, decided_at = now(),
        decision_reason = 'customer ' || p_merged || ' was merged into ' || p_survivor
    WHERE c.tenant_id = p_tenant AND c.status = 'candidate'
      AND p_merged IN (c.survivor_id, c.merged_id)
      AND EXISTS (
          SELECT 1 FROM customer_merges o
          WHERE o.tenant_id = p_tenant AND o.status = 'candidate' AND o.id <> c.id
            AND p_survivor IN (o.survivor_id, o.merged_id)
            AND (CASE WHEN c.survivor_id = p_merged THEN c.merged_id ELSE c.survivor_id END)
                IN (o.survivor_id, o.merged_id));
    UPDATE customer_merges
    SET survivor_id = CASE WHEN survivor_id = p_merged THEN p_survivor ELSE survivor_id END,
        merged_id = CASE WHEN merged_id = p_merged THEN p_survivor ELSE merged_id END
    WHERE tenant_id = p_tenant AND status = 'candidate'
      AND p_merged IN (survivor_id, merged_id);

    INSERT INTO customer_merges (tenant_id, survivor_id, merged_id, status, reason, evidence,
                                 actor)
    VALUES (p_tenant, p_survivor, p_merged, 'merged', p_reason,
            p_evidence || jsonb_build_object(
                'merged_customer', jsonb_build_object(
                    'name', v_merged.name, 'email', v_merged.email, 'phone', v_merged.phone,
                    'created_at', v_merged.created_at),
                'moved', jsonb_build_object(
                    'identifiers', v_identifiers, 'conversations', v_conversations,
                    'messages', v_messages, 'tickets', v_tickets,
                    'care_state_history', v_history),
                'care_state_folded', v_folded),
            p_actor)
    RETURNING id INTO v_id;
    RETURN v_id;
END
$$;

-- Propose that two customers are one person; a pair a human dismissed is not proposed again,
-- and a pair already proposed collects the new message as more evidence (up to 20).
CREATE FUNCTION fte_propose_merge(p_tenant text, p_a uuid, p_b uuid, p_reason text,
                                  p_message jsonb) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    v_older uuid;
    v_newer uuid;
    v_id uuid;
BEGIN
    IF EXISTS (SELECT 1 FROM customer_merges
               WHERE tenant_id = p_tenant AND status = 'dismissed'
                 AND least(survivor_id, merged_id) = least(p_a, p_b)
                 AND greatest(survivor_id, merged_id) = greatest(p_a, p_b)) THEN
        RETURN NULL;
    END IF;
    SELECT (array_agg(id ORDER BY created_at, id))[1], (array_agg(id ORDER BY created_at, id))[2]
    INTO v_older, v_newer
    FROM customers WHERE tenant_id = p_tenant AND id IN (p_a, p_b);
    INSERT INTO customer_merges (tenant_id, survivor_id, merged_id, status, reason, evidence,
                                 actor)
    VALUES (p_tenant, v_older, v_newer, 'candidate', p_reason,
            jsonb_build_object('rule', 'different_emails', 'messages',
                               jsonb_build_array(p_message)),
            'fte-intake')
    ON CONFLICT (tenant_id, least(survivor_id, merged_id), greatest(survivor_id, merged_id))
        WHERE status = 'candidate'
    DO UPDATE SET evidence = jsonb_set(customer_merges.evidence, '{messages}',
        CASE WHEN jsonb_array_length(customer_merges.evidence -> 'messages') < 20
             THEN (customer_merges.evidence -> 'messages') || jsonb_build_array(p_message)
             ELSE customer_merges.evidence -> 'messages' END)
    RETURNING id INTO v_id;
    RETURN v_id;
END
$$;

CREATE OR REPLACE FUNCTION fte_ingest_inbound(
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
    v_owners uuid[];         -- per identifier, its owner when we looked (NULL: unowned)
    v_parties uuid[];        -- the live owners, oldest first
    v_live uuid;
    v_unowned boolean;       -- some identifier is nobody's yet
    v_new_email boolean;     -- ... and one of those is an email
    v_email_parties integer;
    v_new uuid;              -- the customer made of an unowned email when the rule refuses
    v_others uuid[] := '{}'; -- candidates: the customers the message's customer may also be
    v_merges uuid[] := '{}';
    v_claims jsonb;
    v_email text := p_email;
    v_phone text := p_phone;
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

    SELECT array_agg(ci.customer_id ORDER BY u.n) INTO v_owners
    FROM unnest(p_id_types, p_id_values) WITH ORDINALITY AS u (t, v, n)
    LEFT JOIN customer_identifiers ci
           ON ci.tenant_id = p_tenant AND ci.identifier_type = u.t AND ci.identifier_value = u.v;
    v_unowned := array_position(v_owners, NULL) IS NOT NULL;
    SELECT array_agg(DISTINCT x ORDER BY x) INTO v_parties
    FROM unnest(v_owners) AS x WHERE x IS NOT NULL;

    IF v_parties IS NULL THEN
        INSERT INTO customers (tenant_id, name, email, phone)
        VALUES (p_tenant, p_name, p_email, p_phone)
        RETURNING id INTO v_customer;
        INSERT INTO customer_identifiers (tenant_id, customer_id, identifier_type,
                                          identifier_value)
        SELECT p_tenant, v_customer, t, v FROM unnest(p_id_types, p_id_values) AS u (t, v)
        ON CONFLICT (tenant_id, identifier_type, identifier_value) DO NOTHING;
    ELSIF cardinality(v_parties) = 1 AND NOT v_unowned THEN
        -- The common case: a known customer writes again.
        v_customer := fte_lock_customer(p_tenant, v_parties[1], 'use');
    ELSE
        v_new_email := EXISTS (SELECT 1 FROM unnest(p_id_types, v_owners) AS u (t, o)
                               WHERE u.t = 'email' AND u.o IS NULL);
        IF cardinality(v_parties) = 1 THEN
            v_parties := ARRAY[fte_lock_customer(p_tenant, v_parties[1], 'link')];
        ELSE
            FOR i IN 1 .. cardinality(v_parties) LOOP  -- in id order
                v_live := fte_lock_customer(p_tenant, v_parties[i], 'merge');
                v_parties[i] := v_live;
            END LOOP;
        END IF;
        SELECT array_agg(c.id ORDER BY c.created_at, c.id),
               count(*) FILTER (WHERE EXISTS (
                   SELECT 1 FROM customer_identifiers e
                   WHERE e.tenant_id = p_tenant AND e.customer_id = c.id
                     AND e.identifier_type = 'email'))
        INTO v_parties, v_email_parties
        FROM customers c WHERE c.tenant_id = p_tenant AND c.id = ANY (v_parties);
        SELECT jsonb_agg(jsonb_build_object('type', u.t, 'value', u.v, 'owner', ci.customer_id)
                         ORDER BY u.n)
        INTO v_claims
        FROM unnest(p_id_types, p_id_values) WITH ORDINALITY AS u (t, v, n)
        LEFT JOIN customer_identifiers ci
               ON ci.tenant_id = p_tenant AND ci.identifier_type = u.t
              AND ci.identifier_value = u.v;

        IF v_email_parties + v_new_email::integer <= 1 THEN
            -- Proven one person (or one customer gaining identifiers): the oldest survives.
            v_customer := v_parties[1];
            FOR i IN 2 .. cardinality(v_parties) LOOP
                v_merges := v_merges || fte_merge_locked(
                    p_tenant, v_customer, v_parties[i], 'fte-intake',
                    'one message carried identifiers of both customers',
                    jsonb_build_object('rule', 'one_message', 'message', jsonb_build_object(
                        'channel', p_channel, 'external_id', p_external_id,
                        'identifiers', v_claims)));
            END LOOP;
            INSERT INTO customer_identifiers (tenant_id, customer_id, identifier_type,
                                              identifier_value)
            SELECT p_tenant, v_customer, t, v FROM unnest(p_id_types, p_id_values) AS u (t, v)
            ON CONFLICT (tenant_id, identifier_type, identifier_value) DO NOTHING;
        ELSE
            -- Two different email addresses: never merged without a human.
            IF v_new_email THEN
                INSERT INTO customers (tenant_id, name, email)
                VALUES (p_tenant, p_name, p_email)
                RETURNING id INTO v_new;
                INSERT INTO customer_identifiers (tenant_id, customer_id, identifier_type,
                                                  identifier_value)
                SELECT p_tenant, v_new, u.t, u.v
                FROM unnest(p_id_types, p_id_values, v_owners) AS u (t, v, o)
                WHERE u.t = 'email' AND u.o IS NULL;
            END IF;
            -- The message belongs to whoever owns the identifier of its channel.
            SELECT ci.customer_id INTO v_customer
            FROM unnest(p_id_types, p_id_values) WITH ORDINALITY AS u (t, v, n)
            LEFT JOIN customer_identifiers ci
                   ON ci.tenant_id = p_tenant AND ci.identifier_type = u.t
                  AND ci.identifier_value = u.v
            WHERE u.t = ANY (CASE p_channel WHEN 'whatsapp' THEN ARRAY['phone', 'whatsapp']
                                            ELSE ARRAY['email'] END)
            ORDER BY u.n
            LIMIT 1;
            v_customer := coalesce(v_customer, v_new, v_parties[1]);
            INSERT INTO customer_identifiers (tenant_id, customer_id, identifier_type,
                                              identifier_value)
            SELECT p_tenant, v_customer, u.t, u.v
            FROM unnest(p_id_types, p_id_values, v_owners) AS u (t, v, o)
            WHERE u.t <> 'email' AND u.o IS NULL
            ON CONFLICT (tenant_id, identifier_type, identifier_value) DO NOTHING;
            SELECT array_agg(x) INTO v_others
            FROM unnest(v_parties || v_new) AS x WHERE x IS NOT NULL AND x <> v_customer;
            -- The customer's own columns only take identifiers it owns.
            SELECT max(ci.identifier_value) FILTER (WHERE ci.identifier_type = 'email'),
                   max(ci.identifier_value) FILTER (WHERE ci.identifier_type = 'phone')
            INTO v_email, v_phone
            FROM customer_identifiers ci
            WHERE ci.tenant_id = p_tenant AND ci.customer_id = v_customer
              AND (ci.identifier_type, ci.identifier_value) IN (('email', p_email),
                                                                ('phone', p_phone));
        END IF;
    END IF;

    UPDATE customers
    SET name = coalesce(name, p_name), email = coalesce(email, v_email),
        phone = coalesce(phone, v_phone), updated_at = now()
    WHERE tenant_id = p_tenant AND id = v_customer
      AND (name IS NULL AND p_name IS NOT NULL OR email IS NULL AND v_email IS NOT NULL
           OR phone IS NULL AND v_phone IS NOT NULL);

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

    IF cardinality(v_merges) > 0 THEN
        UPDATE customer_merges
        SET evidence = jsonb_set(evidence, '{message,message_id}', to_jsonb(v_message))
        WHERE tenant_id = p_tenant AND id = ANY (v_merges);
    END IF;
    IF v_others IS NOT NULL THEN
        FOR i IN 1 .. cardinality(v_others) LOOP
            PERFORM fte_propose_merge(
                p_tenant, v_customer, v_others[i],
                'one message carried identifiers of customers with different email addresses',
                jsonb_build_object('message_id', v_message, 'channel', p_channel,
                                   'external_id', p_external_id, 'identifiers', v_claims));
        END LOOP;
    END IF;

    RETURN QUERY SELECT v_message, v_customer, v_conversation, true;
END
$$;
