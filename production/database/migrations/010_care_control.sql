-- C.A.R.E. control plane (issue 5): per-tenant autonomy settings and the runtime kill switch,
-- per-customer mode overrides, hashed admin API keys, and the approval inbox.

-- One row per tenant. The environment (CARE_AUTONOMY_ENABLED / CARE_SHADOW_MODE) is a ceiling
-- above all of this: nothing here can turn autonomy on where the environment says off.
CREATE TABLE care_settings (
    tenant_id                  text PRIMARY KEY REFERENCES tenants (id),
    -- assist: propose only; approve: a human approves each action; autopilot: low-risk actions
    -- run without a human; schedules: autopilot plus timed runs (explicit opt-in below).
    autonomy_mode              text NOT NULL DEFAULT 'assist'
                               CHECK (autonomy_mode IN ('assist', 'approve', 'autopilot',
                                                        'schedules')),
    -- The runtime kill switch: true halts every autonomous action of the tenant at once.
    kill_switch                boolean NOT NULL DEFAULT false,
    kill_switch_changed_at     timestamptz,
    kill_switch_changed_by     text,
    -- Throttles (checked before every autonomous action).
    max_actions_per_customer_day integer NOT NULL DEFAULT 5 CHECK (max_actions_per_customer_day >= 0),
    min_interval_s             integer NOT NULL DEFAULT 60 CHECK (min_interval_s >= 0),
    daily_budget               integer NOT NULL DEFAULT 200 CHECK (daily_budget >= 0),
    -- Quiet hours in the tenant's time zone (tenants.timezone); NULL: none. Deferred, not dropped.
    quiet_hours_start          time,
    quiet_hours_end            time,
    schedules_opt_in           boolean NOT NULL DEFAULT false,
    -- Whether customers the tenant has never decided about start hands-off. Off: each customer
    -- is opted in explicitly (the local demo turns it on for the internal tenant only).
    hands_off_new_customers    boolean NOT NULL DEFAULT false,
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    updated_by                 text
);
INSERT INTO care_settings (tenant_id) SELECT id FROM tenants ON CONFLICT DO NOTHING;

-- A global kill switch above every tenant's (one row).
CREATE TABLE care_global (
    id           boolean PRIMARY KEY DEFAULT true CHECK (id),
    kill_switch  boolean NOT NULL DEFAULT false,
    changed_at   timestamptz,
    changed_by   text
);
INSERT INTO care_global (id) VALUES (true);

-- Per-customer override of the tenant's mode (NULL: the tenant's).
ALTER TABLE customer_care_state ADD COLUMN autonomy_mode text
    CHECK (autonomy_mode IN ('assist', 'approve', 'autopilot', 'schedules'));

-- Admin API keys: only a SHA-256 of the key is stored (keys are 32 random bytes, so a slow hash
-- adds nothing); the prefix lets an operator tell keys apart.
CREATE TABLE api_keys (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    text NOT NULL REFERENCES tenants (id),
    name         text NOT NULL,
    role         text NOT NULL CHECK (role IN ('operator', 'admin')),
    key_prefix   text NOT NULL,
    key_hash     text NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id);

-- The approval inbox: one proposal per held action (a draft reply, ...).
CREATE TABLE care_proposals (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id       text NOT NULL REFERENCES tenants (id),
    customer_id     uuid NOT NULL REFERENCES customers (id),
    message_id      uuid REFERENCES messages (id),     -- the draft reply, for send_reply
    action          text NOT NULL,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'approved', 'edited', 'rejected', 'expired')),
    draft           text NOT NULL,
    final_text      text,
    decision        jsonb NOT NULL DEFAULT '{}'::jsonb,  -- the policy's {decision, reason, ...}
    outcome         text CHECK (outcome IN ('IDEA_REJECTED', 'IDEA_EDITED', 'EXECUTION_FAILED',
                                            'EXECUTION_SUCCEEDED', 'NO_RESPONSE',
                                            'NEGATIVE_RESPONSE')),
    decided_by      text,
    decided_at      timestamptz,
    decision_reason text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL DEFAULT now() + interval '7 days',
    UNIQUE (tenant_id, message_id)
);
CREATE INDEX care_proposals_inbox_idx ON care_proposals (tenant_id, status, created_at);

-- Throttles count autonomous actions per customer and per tenant and day.
CREATE INDEX care_audit_executed_idx ON care_audit (tenant_id, customer_id, created_at)
    WHERE event_type = 'executed_action';

-- The audit export pages through one tenant's rows by id.
CREATE INDEX care_audit_export_idx ON care_audit (tenant_id, id);
