-- The C.A.R.E. executor wired to every gate (issue 5): replies deferred by quiet hours or the
-- minimum interval, drafts that expire in the inbox, the internal follow-up tasks of scheduled
-- runs, and the daily digest that gates those runs.

-- A deferred reply waits in the database until `deferred_until`; the scheduler then asks the
-- executor again (every gate, read fresh) and releases it, defers it again or holds it.
-- An expired draft sat in the approval inbox past its proposal's expiry: it is never sent.
ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check
    CHECK (status IN ('accepted', 'processed', 'failed', 'pending_approval', 'deferred',
                      'queued', 'delivered', 'delivery_failed', 'rejected', 'expired'));
ALTER TABLE messages ADD COLUMN deferred_until timestamptz;
CREATE INDEX messages_deferred_idx ON messages (deferred_until) WHERE status = 'deferred';

-- The expiry sweep finds pending proposals past their time.
CREATE INDEX care_proposals_expiry_idx ON care_proposals (expires_at) WHERE status = 'pending';

-- Internal follow-up tasks: seen by the team only, created by a person or by a scheduled run.
CREATE TABLE care_tasks (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    text NOT NULL REFERENCES tenants (id),
    customer_id  uuid NOT NULL REFERENCES customers (id),
    kind         text NOT NULL CHECK (kind IN ('follow_up_task', 'internal_note')),
    title        text NOT NULL CHECK (length(btrim(title)) > 0),
    body         text NOT NULL DEFAULT '',
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    created_by   text NOT NULL,
    -- One scheduled follow-up per customer and trigger: a rerun of the same day finds it.
    dedupe_key   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, dedupe_key)
);
CREATE INDEX care_tasks_customer_idx ON care_tasks (tenant_id, customer_id, created_at);

-- The daily digest: what autopilot did, held and deferred in one local day of the tenant.
-- A schedules-mode tenant's timed run for a day waits until the digest of the day before
-- exists (no "wake up to N surprises").
CREATE TABLE care_digests (
    tenant_id   text NOT NULL REFERENCES tenants (id),
    day         date NOT NULL,
    summary     jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, day)
);

-- One timed run per schedules-mode tenant and local day (a second scheduler finds it taken).
CREATE TABLE care_schedule_runs (
    tenant_id    text NOT NULL REFERENCES tenants (id),
    day          date NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    summary      jsonb NOT NULL DEFAULT '{}'::jsonb,
    PRIMARY KEY (tenant_id, day)
);

-- OutcomeTaxonomyV1's response labels, after an approved reply went out: the customer's next
-- message (NEGATIVE_RESPONSE when its sentiment is negative) or silence (NO_RESPONSE).
ALTER TABLE care_proposals ADD COLUMN responded_at timestamptz;
ALTER TABLE care_proposals ADD COLUMN response_outcome text
    CHECK (response_outcome IN ('NO_RESPONSE', 'NEGATIVE_RESPONSE'));
CREATE INDEX care_proposals_awaiting_response_idx ON care_proposals (tenant_id, customer_id)
    WHERE status IN ('approved', 'edited') AND responded_at IS NULL
      AND response_outcome IS NULL;

-- The silence sweep skips customers whose shadow-mode proposal since their last signal is
-- already on record (one proposal per silence, not one per sweep).
CREATE INDEX care_audit_state_proposals_idx ON care_audit (tenant_id, customer_id, created_at)
    WHERE event_type = 'proposed_state_change';
CREATE INDEX customer_care_state_silence_idx ON customer_care_state (last_signal_at)
    WHERE last_signal_at IS NOT NULL;

-- The tenant's autonomous actions per local day, kept by the audit trail itself: the daily
-- budget is read in one row instead of counting the day's audit rows under the tenant's lock
-- (which grew with every reply: 13 ms at 20,000 actions a day). Same rule as the throttle's
-- count: executed actions that are not a person's control-plane change (ADMIN.*).
CREATE TABLE care_daily_actions (
    tenant_id text NOT NULL REFERENCES tenants (id),
    day       date NOT NULL,  -- in the tenant's time zone
    actions   integer NOT NULL,
    PRIMARY KEY (tenant_id, day)
);

CREATE FUNCTION care_count_daily_action() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO care_daily_actions (tenant_id, day, actions)
    SELECT NEW.tenant_id, (NEW.created_at AT TIME ZONE t.timezone)::date, 1
    FROM tenants t WHERE t.id = NEW.tenant_id
    ON CONFLICT (tenant_id, day) DO UPDATE SET actions = care_daily_actions.actions + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER care_audit_count_daily_action AFTER INSERT ON care_audit
    FOR EACH ROW
    WHEN (NEW.event_type = 'executed_action'
          AND coalesce(NEW.policy_clause, '') NOT LIKE 'ADMIN.%')
    EXECUTE FUNCTION care_count_daily_action();
