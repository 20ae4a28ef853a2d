-- The proactive layer (issue 19): each customer's health score (current and history), and
-- the PerceptionScheduler's plan of when each customer is looked at next.
--
-- Every instant below is written by the caller (the sweep's or the signal's `now`): none has
-- a now() default.

-- The current score, with its breakdown (the factors' points and sentences) and the
-- engagement and churn probabilities computed from the same facts.
CREATE TABLE customer_health (
    tenant_id    text NOT NULL REFERENCES tenants (id),
    customer_id  uuid NOT NULL REFERENCES customers (id),
    score        integer NOT NULL CHECK (score BETWEEN 0 AND 100),
    band         text NOT NULL CHECK (band IN ('poor', 'average', 'good')),
    trend        integer NOT NULL,  -- the score minus the one it replaced
    breakdown    jsonb NOT NULL,
    engagement   real NOT NULL CHECK (engagement BETWEEN 0 AND 1),
    churn_risk   real NOT NULL CHECK (churn_risk BETWEEN 0 AND 1),
    churn_band   text NOT NULL CHECK (churn_band IN ('low', 'medium', 'high')),
    version      integer NOT NULL CHECK (version > 0),
    computed_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, customer_id)
);

-- One row each time the score or the band changed: the console's "health over time".
CREATE TABLE customer_health_history (
    id           bigserial PRIMARY KEY,
    tenant_id    text NOT NULL REFERENCES tenants (id),
    customer_id  uuid NOT NULL REFERENCES customers (id),
    score        integer NOT NULL CHECK (score BETWEEN 0 AND 100),
    band         text NOT NULL CHECK (band IN ('poor', 'average', 'good')),
    breakdown    jsonb NOT NULL,
    engagement   real NOT NULL,
    churn_risk   real NOT NULL,
    computed_at  timestamptz NOT NULL
);
CREATE INDEX customer_health_history_customer_idx
    ON customer_health_history (tenant_id, customer_id, computed_at DESC);

-- When each customer is looked at next, how hot they are, and the fingerprint of the facts
-- the last look saw (an unchanged customer recomputes nothing). `signal_at`: a message, a state
-- change or an outcome since the last look (the signal pass takes these first). The sweep walks
-- the primary key for the due ones; no index on next_look_at, so a look's update stays HOT.
CREATE TABLE care_perception (
    tenant_id     text NOT NULL REFERENCES tenants (id),
    customer_id   uuid NOT NULL REFERENCES customers (id),
    next_look_at  timestamptz NOT NULL,
    heat          text NOT NULL DEFAULT 'cold' CHECK (heat IN ('hot', 'warm', 'cold')),
    facts_hash    text,
    stale_at      timestamptz,  -- a trigger comes due at this instant with the same facts
    signal_at     timestamptz,
    looked_at     timestamptz,
    evaluated_at  timestamptz,  -- the last look that ran the triggers and the score
    PRIMARY KEY (tenant_id, customer_id)
) WITH (fillfactor = 70);  -- room on the page for each look's update (HOT)
CREATE INDEX care_perception_signal_idx ON care_perception (tenant_id, signal_at)
    WHERE signal_at IS NOT NULL;

-- Every customer already here is due at once ('-infinity' is earlier than any caller's now).
INSERT INTO care_perception (tenant_id, customer_id, next_look_at)
SELECT tenant_id, id, '-infinity' FROM customers WHERE merged_into IS NULL;

-- A follow-up task may say when it is due (NULL: the rules' default after its creation); an
-- open task past it is a promise not kept.
ALTER TABLE care_tasks ADD COLUMN due_at timestamptz;

-- The facts queries read a batch of customers' proposals (negative outcomes) by customer.
CREATE INDEX care_proposals_customer_idx ON care_proposals (tenant_id, customer_id, created_at);
