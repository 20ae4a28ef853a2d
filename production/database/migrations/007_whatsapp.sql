-- WhatsApp (Twilio): customer messages answered as part of a later message's turn, the Twilio
-- message SIDs that carried each reply (one per part of a split reply), and the delivery events
-- Twilio's status callbacks report.

-- A message the customer followed up within the turn window is folded into that newer message:
-- it is processed without a reply of its own, and the turn's last message is answered with the
-- text of the whole chain (see production/services/whatsapp_turns.py).
CREATE TABLE whatsapp_merged_messages (
    tenant_id   text NOT NULL REFERENCES tenants (id),
    message_id  uuid NOT NULL REFERENCES messages (id),
    merged_into uuid NOT NULL REFERENCES messages (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, message_id),
    CHECK (message_id <> merged_into)
);
CREATE INDEX whatsapp_merged_messages_into_idx
    ON whatsapp_merged_messages (tenant_id, merged_into);

-- Each part of a reply Twilio accepted, committed as soon as it is sent, so a retry after a
-- failure midway resumes instead of sending the earlier parts again. No foreign key on
-- message_id: the dispatcher holds the reply's row lock (FOR UPDATE) while the parts are sent,
-- and a foreign key check (FOR KEY SHARE) on another connection would wait for it forever.
CREATE TABLE whatsapp_message_parts (
    tenant_id  text NOT NULL REFERENCES tenants (id),
    message_id uuid NOT NULL,
    part_index integer NOT NULL CHECK (part_index >= 0),
    sid        text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, message_id, part_index),
    UNIQUE (tenant_id, sid)
);

-- What the provider reported about a delivered reply, one row per (SID, status): Twilio retries
-- a callback it did not see answered, and the retry finds its row.
CREATE TABLE delivery_events (
    id           bigserial PRIMARY KEY,
    tenant_id    text NOT NULL REFERENCES tenants (id),
    message_id   uuid NOT NULL REFERENCES messages (id),
    provider_ref text NOT NULL,
    status       text NOT NULL,
    error_code   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, provider_ref, status)
);
CREATE INDEX delivery_events_message_idx ON delivery_events (tenant_id, message_id, created_at);
