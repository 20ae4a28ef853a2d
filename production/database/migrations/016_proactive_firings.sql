-- The proactive layer (issue 19): every trigger firing, once per customer, trigger and window.
-- fired_at has no default: the scheduler or the signal path passes its own `now`.
CREATE TABLE care_trigger_firings (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    text NOT NULL REFERENCES tenants (id),
    customer_id  uuid NOT NULL REFERENCES customers (id),
    trigger      text NOT NULL CHECK (length(trigger) > 0),
    version      integer NOT NULL CHECK (version > 0),
    window_key   text NOT NULL CHECK (length(window_key) > 0),
    reason       text NOT NULL,
    facts        jsonb NOT NULL DEFAULT '{}'::jsonb,
    decision     text CHECK (decision IN ('suggested', 'deferred', 'skipped', 'suppressed')),
    decided_at   timestamptz,
    fired_at     timestamptz NOT NULL,
    UNIQUE (tenant_id, customer_id, trigger, window_key)
);
CREATE INDEX care_trigger_firings_customer_idx
    ON care_trigger_firings (tenant_id, customer_id, fired_at);
-- The suggestion pipeline claims the firings nobody has decided yet.
CREATE INDEX care_trigger_firings_undecided_idx
    ON care_trigger_firings (fired_at) WHERE decision IS NULL;
