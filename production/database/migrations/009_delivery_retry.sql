-- Provider deliveries that failed transiently wait in the database, not in the consumer: the
-- dispatcher commits the Kafka offset and moves on, so one provider's outage never holds up
-- another channel's replies on the same partition. A due retry is re-announced through the
-- outbox; after the last attempt the reply is marked delivery_failed and dead-lettered.
ALTER TABLE messages ADD COLUMN delivery_attempts integer NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN next_delivery_at timestamptz;
ALTER TABLE messages ADD COLUMN last_delivery_error text;
CREATE INDEX messages_delivery_retry_idx ON messages (next_delivery_at)
    WHERE status = 'queued' AND next_delivery_at IS NOT NULL;

-- Each provider's circuit breaker, as the dispatcher last saw it. Provider health belongs to
-- the deployment's credentials, not to a tenant, so this table has no tenant_id.
CREATE TABLE channel_health (
    channel              text PRIMARY KEY CHECK (channel IN ('email', 'whatsapp', 'web_form')),
    state                text NOT NULL CHECK (state IN ('closed', 'open', 'half_open')),
    consecutive_failures integer NOT NULL DEFAULT 0,
    last_error           text,
    updated_at           timestamptz NOT NULL DEFAULT now()
);
