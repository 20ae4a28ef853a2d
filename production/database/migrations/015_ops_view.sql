-- The operators' view without Prometheus (issue 17): the alerts the scheduler records when one
-- of the constitution's thresholds is crossed, the address each tenant's daily digest is mailed
-- to, and the one-time sign-in links `fte up` prints for the local console.
--
-- Every instant below is written by the caller (its `now`): none has a now() default.

-- Where the tenant's operators read their daily digest (NULL: it is stored, not mailed). An
-- admin sets it; `fte up` gives the local demo's tenant one (its mail goes to the sandbox).
ALTER TABLE tenants ADD COLUMN operator_email text;

-- One row per episode: opened when a check first finds the threshold crossed, seen again at
-- every check it stays crossed, resolved at the first check it is not. At most one open alert
-- per tenant, kind and channel ('' for a tenant-wide kind).
CREATE TABLE ops_alerts (
    id           bigserial PRIMARY KEY,
    tenant_id    text NOT NULL REFERENCES tenants (id),
    kind         text NOT NULL CHECK (kind IN ('escalation_rate', 'first_response_p95',
                                               'dead_letters', 'draft_age')),
    channel      text NOT NULL DEFAULT '',
    severity     text NOT NULL CHECK (severity IN ('critical', 'warning')),
    value        double precision NOT NULL,
    threshold    double precision NOT NULL,
    summary      text NOT NULL,
    opened_at    timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    resolved_at  timestamptz
);
CREATE UNIQUE INDEX ops_alerts_one_open ON ops_alerts (tenant_id, kind, channel)
    WHERE resolved_at IS NULL;
CREATE INDEX ops_alerts_tenant_idx ON ops_alerts (tenant_id, opened_at DESC);

-- The metrics read a tenant's messages of a window, and a run's `escalated` flag by its
-- inbound message (at 50k messages a week, the last hour's summary: 43 ms -> 6-17 ms).
CREATE INDEX messages_tenant_time_idx ON messages (tenant_id, created_at);
CREATE INDEX agent_metrics_message_idx ON agent_metrics (tenant_id, message_id, metric_name);

-- The digest is mailed once: the scheduler marks it when the email channel took it.
ALTER TABLE care_digests ADD COLUMN mailed_at timestamptz;

-- A delivery is a reply's (messages.id) or an operator mail's (its id derived from the tenant
-- and the day, so a second scheduler's copy is the same row).
ALTER TABLE deliveries DROP CONSTRAINT deliveries_message_id_fkey;
ALTER TABLE deliveries ADD COLUMN kind text NOT NULL DEFAULT 'reply'
    CHECK (kind IN ('reply', 'operator_digest'));

-- `fte up`'s one-click console sign-in: only the token's SHA-256 is kept; it works once,
-- before it expires, from the machine itself.
CREATE TABLE local_sign_in_tokens (
    token_hash bytea PRIMARY KEY,
    tenant_id  text NOT NULL REFERENCES tenants (id),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
