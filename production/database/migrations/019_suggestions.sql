-- Suggestions (issue 19 §4): what the FTE proposes to do next for a customer, from one trigger
-- firing, through the cost gate and AutoApprovalPolicyV1; decided by a person (or run by
-- autopilot, for internal actions) and never deleted.
--
-- Every instant is the caller's `now`: no column a decision reads has a now() default.

CREATE TABLE care_suggestions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     text NOT NULL REFERENCES tenants (id),
    customer_id   uuid NOT NULL REFERENCES customers (id),
    firing_id     uuid NOT NULL REFERENCES care_trigger_firings (id),
    trigger       text NOT NULL,
    action        text NOT NULL CHECK (action IN ('internal_note', 'follow_up_task',
                                                  'change_ticket', 'draft', 'outbound_message',
                                                  'merge_customers')),
    title         text NOT NULL CHECK (length(btrim(title)) > 0),
    body          text NOT NULL,
    reason        text NOT NULL,
    explanation   text NOT NULL,
    confidence    double precision NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
    urgency       double precision NOT NULL CHECK (urgency >= 0 AND urgency <= 1),
    urgency_from  text NOT NULL,                   -- 'trigger' or 'health' (domain/proactive/rank)
    facts         jsonb NOT NULL,                  -- what the trigger saw
    params        jsonb NOT NULL DEFAULT '{}'::jsonb,  -- ids and values the action needs
    topics        text[] NOT NULL DEFAULT '{}',
    proposer      text NOT NULL,                   -- 'local' or 'openai:<model>'
    policy        jsonb NOT NULL,                  -- AutoApprovalPolicyV1 and the gates, at proposal
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'executed', 'dismissed', 'expired')),
    -- No spam (domain/proactive/spam.py): the n-th suggestion of a customer's local day takes
    -- slot n; two schedulers writing the same slot at once: one of them finds it taken.
    local_day     date NOT NULL,
    day_slot      smallint NOT NULL CHECK (day_slot >= 0),
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    snoozed_until timestamptz,
    decided_by    text,
    decided_at    timestamptz,
    outcome       text CHECK (outcome IN ('IDEA_REJECTED', 'IDEA_EDITED', 'EXECUTION_FAILED',
                                          'EXECUTION_SUCCEEDED', 'NO_RESPONSE',
                                          'NEGATIVE_RESPONSE')),
    dismiss_reason text,
    result        jsonb,                           -- what the execution did (ids, the diff)
    UNIQUE (tenant_id, customer_id, local_day, day_slot),
    UNIQUE (firing_id),
    CHECK (status <> 'dismissed' OR (dismiss_reason IS NOT NULL AND outcome IS NOT NULL))
);
-- The feed: a tenant's pending suggestions by rank.
CREATE INDEX care_suggestions_feed_idx ON care_suggestions (tenant_id, status, created_at);
-- The spam rules read a customer's suggestions of one trigger.
CREATE INDEX care_suggestions_customer_idx
    ON care_suggestions (tenant_id, customer_id, trigger, created_at);
-- The expiry pass.
CREATE INDEX care_suggestions_expiry_idx ON care_suggestions (expires_at) WHERE status = 'pending';

-- A firing the cost gate deferred is looked at again from retry_at (the gate's own time).
ALTER TABLE care_trigger_firings ADD COLUMN retry_at timestamptz;
CREATE INDEX care_trigger_firings_deferred_idx ON care_trigger_firings (retry_at)
    WHERE decision = 'deferred';

-- A draft reply a suggestion wrote for the team: written, not sent.
ALTER TABLE care_tasks DROP CONSTRAINT care_tasks_kind_check;
ALTER TABLE care_tasks ADD CONSTRAINT care_tasks_kind_check
    CHECK (kind IN ('follow_up_task', 'internal_note', 'draft'));
