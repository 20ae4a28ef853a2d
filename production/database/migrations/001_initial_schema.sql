-- The CRM: customers and their identifiers, conversations, messages, tickets, knowledge base,
-- channel settings, agent metrics, C.A.R.E. state, audit and the transactional outbox.
-- Every table carries tenant_id; every query filters on it.

CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE tenants (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    timezone    text NOT NULL DEFAULT 'UTC',
    is_internal boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);

INSERT INTO tenants (id, name, timezone, is_internal)
VALUES ('techcorp', 'TechCorp (internal)', 'UTC', true);

CREATE TABLE customers (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  text NOT NULL REFERENCES tenants (id),
    name       text,
    email      text,
    phone      text,
    metadata   jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customers_tenant_idx ON customers (tenant_id, created_at);

CREATE TABLE customer_identifiers (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        text NOT NULL REFERENCES tenants (id),
    customer_id      uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    identifier_type  text NOT NULL CHECK (identifier_type IN ('email', 'phone', 'whatsapp')),
    identifier_value text NOT NULL,
    verified         boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, identifier_type, identifier_value)
);
CREATE INDEX customer_identifiers_customer_idx ON customer_identifiers (tenant_id, customer_id);

CREATE TABLE conversations (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        text NOT NULL REFERENCES tenants (id),
    customer_id      uuid NOT NULL REFERENCES customers (id),
    initial_channel  text NOT NULL,
    current_channel  text NOT NULL,
    status           text NOT NULL DEFAULT 'active'
                     CHECK (status IN ('active', 'waiting', 'escalated', 'closed')),
    sentiment_score  real,
    sentiment_trend  jsonb NOT NULL DEFAULT '[]'::jsonb,
    channel_switches jsonb NOT NULL DEFAULT '[]'::jsonb,
    escalated_to     text,
    metadata         jsonb NOT NULL DEFAULT '{}'::jsonb,
    started_at       timestamptz NOT NULL DEFAULT now(),
    last_message_at  timestamptz NOT NULL DEFAULT now(),
    ended_at         timestamptz
);
CREATE INDEX conversations_customer_idx
    ON conversations (tenant_id, customer_id, last_message_at DESC);

CREATE SEQUENCE ticket_number_seq START 1000;

CREATE TABLE tickets (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id         text NOT NULL REFERENCES tenants (id),
    ticket_number     text NOT NULL DEFAULT ('TKT-' || nextval('ticket_number_seq')::text)
                      CHECK (ticket_number ~ '^TKT-[0-9]+$'),
    customer_id       uuid NOT NULL REFERENCES customers (id),
    conversation_id   uuid NOT NULL REFERENCES conversations (id),
    source_channel    text NOT NULL,
    source_message_id uuid,
    subject           text,
    category          text NOT NULL DEFAULT 'general',
    priority          text NOT NULL DEFAULT 'medium'
                      CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    status            text NOT NULL DEFAULT 'open'
                      CHECK (status IN ('open', 'in_progress', 'waiting_customer', 'escalated',
                                        'resolved', 'closed')),
    escalation_reason text,
    resolution_notes  text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    resolved_at       timestamptz,
    UNIQUE (ticket_number),
    UNIQUE (tenant_id, source_message_id)
);
CREATE INDEX tickets_customer_idx ON tickets (tenant_id, customer_id, created_at DESC);
CREATE INDEX tickets_status_idx ON tickets (tenant_id, status);

CREATE TABLE messages (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id           text NOT NULL REFERENCES tenants (id),
    conversation_id     uuid NOT NULL REFERENCES conversations (id),
    customer_id         uuid NOT NULL REFERENCES customers (id),
    ticket_id           uuid REFERENCES tickets (id),
    channel             text NOT NULL CHECK (channel IN ('email', 'whatsapp', 'web_form')),
    direction           text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    role                text NOT NULL CHECK (role IN ('customer', 'agent', 'system', 'human')),
    content             text NOT NULL,
    subject             text,
    -- The inbound-dedupe key: the provider's id (Twilio MessageSid, Gmail message id,
    -- web form Idempotency-Key). A redelivered message finds its row instead of a new one.
    external_id         text,
    request_hash        text,
    in_reply_to         uuid REFERENCES messages (id),
    status              text NOT NULL DEFAULT 'accepted'
                        CHECK (status IN ('accepted', 'processed', 'failed',
                                          'pending_approval', 'queued', 'delivered',
                                          'delivery_failed', 'rejected')),
    delivery_status     text,
    delivery_ref        text,
    sentiment           real,
    tokens_used         integer,
    latency_ms          integer,
    tool_calls          jsonb NOT NULL DEFAULT '[]'::jsonb,
    metadata            jsonb NOT NULL DEFAULT '{}'::jsonb,
    attempts            integer NOT NULL DEFAULT 0,
    last_published_at   timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    processed_at        timestamptz,
    delivered_at        timestamptz
);
CREATE UNIQUE INDEX messages_inbound_dedupe_key
    ON messages (tenant_id, channel, external_id) WHERE direction = 'inbound';
-- At most one agent reply per inbound message, whatever the redeliveries.
CREATE UNIQUE INDEX messages_one_reply_per_inbound
    ON messages (tenant_id, in_reply_to) WHERE role = 'agent';
CREATE INDEX messages_conversation_idx ON messages (tenant_id, conversation_id, created_at);
CREATE INDEX messages_customer_idx ON messages (tenant_id, customer_id, created_at DESC);
CREATE INDEX messages_ticket_idx ON messages (tenant_id, ticket_id, created_at);
CREATE INDEX messages_unprocessed_idx ON messages (created_at)
    WHERE direction = 'inbound' AND status = 'accepted';

CREATE TABLE knowledge_base (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  text NOT NULL REFERENCES tenants (id),
    title      text NOT NULL,
    content    text NOT NULL,
    category   text,
    source     text,
    embedding  vector(384),
    search_tsv tsvector GENERATED ALWAYS AS (
        to_tsvector('english', coalesce(title, '') || ' ' || content)) STORED,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, source, title)
);
CREATE INDEX knowledge_base_embedding_hnsw
    ON knowledge_base USING hnsw (embedding vector_cosine_ops);
CREATE INDEX knowledge_base_tsv_idx ON knowledge_base USING gin (search_tsv);
CREATE INDEX knowledge_base_tenant_idx ON knowledge_base (tenant_id, category);

CREATE TABLE channel_configs (
    tenant_id           text NOT NULL REFERENCES tenants (id),
    channel             text NOT NULL CHECK (channel IN ('email', 'whatsapp', 'web_form')),
    enabled             boolean NOT NULL DEFAULT true,
    tone                text NOT NULL,
    max_response_length integer NOT NULL CHECK (max_response_length > 0),
    length_unit         text NOT NULL CHECK (length_unit IN ('words', 'chars')),
    split_at            integer,
    greeting            text,
    signature           text,
    config              jsonb NOT NULL DEFAULT '{}'::jsonb,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, channel)
);

INSERT INTO channel_configs
    (tenant_id, channel, tone, max_response_length, length_unit, split_at, greeting, signature)
VALUES
    ('techcorp', 'email', 'formal', 500, 'words', NULL, 'Dear {name},',
     'Best regards,\nTechCorp Customer Success\nTicket reference: {ticket}'),
    ('techcorp', 'whatsapp', 'conversational', 300, 'chars', 1600, 'Hi {name}!', NULL),
    ('techcorp', 'web_form', 'semi-formal', 300, 'words', NULL, 'Hello {name},',
     'TechCorp Support (ticket {ticket})');

CREATE TABLE agent_metrics (
    id              bigserial PRIMARY KEY,
    tenant_id       text NOT NULL REFERENCES tenants (id),
    message_id      uuid REFERENCES messages (id),
    conversation_id uuid REFERENCES conversations (id),
    channel         text,
    metric_name     text NOT NULL,
    metric_value    double precision NOT NULL,
    dimensions      jsonb NOT NULL DEFAULT '{}'::jsonb,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agent_metrics_lookup_idx ON agent_metrics (tenant_id, metric_name, recorded_at);

CREATE TABLE customer_care_state (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id         text NOT NULL REFERENCES tenants (id),
    entity_type       text NOT NULL CHECK (entity_type IN ('lead', 'contact', 'account')),
    entity_id         uuid NOT NULL,
    care_state        text NOT NULL DEFAULT 'unaware'
                      CHECK (care_state IN ('unaware', 'aware', 'engaged', 'evaluating',
                                            'committed', 'active', 'at_risk', 'dormant',
                                            'reactivated', 'lost')),
    hands_off_enabled boolean NOT NULL DEFAULT false,
    escalation_status text CHECK (escalation_status IN ('open', 'closed')),
    last_signal_at    timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, entity_type, entity_id)
);
CREATE INDEX customer_care_state_state_idx ON customer_care_state (tenant_id, care_state);

CREATE TABLE customer_care_state_history (
    id          bigserial PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants (id),
    entity_type text NOT NULL,
    entity_id   uuid NOT NULL,
    from_state  text,
    to_state    text NOT NULL,
    reason      text NOT NULL CHECK (length(btrim(reason)) > 0),
    actor       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customer_care_state_history_entity_idx
    ON customer_care_state_history (tenant_id, entity_type, entity_id, created_at);

-- Append-only: what the system proposed, would have done, did, or was blocked from doing.
CREATE TABLE care_audit (
    id            bigserial PRIMARY KEY,
    tenant_id     text NOT NULL REFERENCES tenants (id),
    event_type    text NOT NULL CHECK (event_type IN ('proposed_state_change', 'would_escalate',
                                                      'would_execute_action', 'executed_action',
                                                      'blocked_action')),
    actor         text NOT NULL,
    reason        text NOT NULL,
    policy_clause text,
    customer_id   uuid,
    message_id    uuid,
    payload       jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX care_audit_tenant_idx ON care_audit (tenant_id, created_at);

CREATE FUNCTION care_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'care_audit is append-only';
END $$;
CREATE TRIGGER care_audit_no_update BEFORE UPDATE OR DELETE ON care_audit
    FOR EACH ROW EXECUTE FUNCTION care_audit_append_only();

-- Transactional outbox: written in the same transaction as the state it announces.
CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    tenant_id    text NOT NULL REFERENCES tenants (id),
    topic        text NOT NULL,
    message_key  text NOT NULL,
    payload      jsonb NOT NULL,
    headers      jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text
);
CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;

-- Every delivery attempt's final result, one row per outbound message and channel.
CREATE TABLE deliveries (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    text NOT NULL REFERENCES tenants (id),
    message_id   uuid NOT NULL REFERENCES messages (id),
    channel      text NOT NULL,
    status       text NOT NULL CHECK (status IN ('delivered', 'sandboxed', 'failed')),
    provider_ref text,
    recipient    text,
    subject      text,
    body         text NOT NULL,
    error        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, message_id)
);
