-- The DecisionCostGate (issue 19 §3): each tenant's tier, its model tokens per local day, and
-- every decision the gate took. No column a decision reads has a now() default: the gate
-- writes the instant its caller passed.

-- The tenant's plan: its daily model budget and priorities are settings per tier
-- (FTE_BUDGET_TIERS).
ALTER TABLE tenants ADD COLUMN model_tier text NOT NULL DEFAULT 'standard'
    CHECK (model_tier IN ('free', 'standard', 'premium'));

-- Model tokens reserved or spent per tenant and local day (in tenants.timezone), by every path
-- (the reply path and the proactive layer). A run reserves its estimate with one conditional
-- upsert, so concurrent runs can never pass the day's cap; once it ends, the reservation is
-- settled to the tokens it used.
CREATE TABLE care_model_budget (
    tenant_id   text NOT NULL REFERENCES tenants (id),
    day         date NOT NULL,
    tokens      bigint NOT NULL CHECK (tokens >= 0),
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, day)
);

-- Every decision of the gate, ALLOW or not, with the facts it read (append-only). customer_id
-- has no foreign key, as in care_audit: the trail names whom it decided about, whatever
-- becomes of the row later.
CREATE TABLE care_cost_decisions (
    id                bigserial PRIMARY KEY,
    tenant_id         text NOT NULL REFERENCES tenants (id),
    customer_id       uuid NOT NULL,
    trigger           text NOT NULL CHECK (length(trigger) > 0),
    decision          text NOT NULL CHECK (decision IN ('ALLOW', 'DEFER', 'SKIP')),
    reason            text NOT NULL,
    tier              text NOT NULL,
    day               date NOT NULL,
    estimated_tokens  integer NOT NULL,
    estimated_cost_usd double precision NOT NULL,
    tokens_used       bigint NOT NULL,  -- the tenant's tokens of the day before this decision
    token_limit       bigint NOT NULL,  -- what this path may reach today
    pending           integer NOT NULL,
    retry_at          timestamptz,
    decided_at        timestamptz NOT NULL
);
-- Recency: the last run allowed for a customer and trigger.
CREATE INDEX care_cost_decisions_recent_idx
    ON care_cost_decisions (tenant_id, customer_id, trigger, decided_at)
    WHERE decision = 'ALLOW';
CREATE INDEX care_cost_decisions_tenant_idx ON care_cost_decisions (tenant_id, decided_at);

-- Saturation: a customer's pending proposals (the inbox index is per tenant, not customer).
CREATE INDEX care_proposals_pending_customer_idx ON care_proposals (tenant_id, customer_id)
    WHERE status = 'pending';

CREATE FUNCTION care_cost_decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'care_cost_decisions is append-only';
END $$;
CREATE TRIGGER care_cost_decisions_no_update BEFORE UPDATE OR DELETE ON care_cost_decisions
    FOR EACH ROW EXECUTE FUNCTION care_cost_decisions_append_only();

-- A reply held because the tenant's budget was spent (FTE_BUDGET_EXHAUSTED=hold) stays
-- `accepted` with the instant its next local day starts; the sweeper queues it again from then.
ALTER TABLE messages ADD COLUMN held_until timestamptz;
