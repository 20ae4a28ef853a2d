-- The Gmail channel: one row per support mailbox we read through the Gmail API.
-- history_id is where the next sync starts (Gmail's users.history.list startHistoryId); it only
-- ever moves forward. watch_expires_at is when Gmail stops pushing notifications unless
-- `fte gmail watch` renews the watch first. A sync holds the row lock (SELECT ... FOR UPDATE),
-- so concurrent notifications for one mailbox are read one after the other.

CREATE TABLE gmail_mailboxes (
    tenant_id        text NOT NULL REFERENCES tenants (id),
    address          text NOT NULL CHECK (address = lower(address) AND address LIKE '%@%'),
    history_id       bigint CHECK (history_id >= 0),
    watch_expires_at timestamptz,
    last_sync_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, address)
);
