-- A provider call that succeeded but was not recorded (a read timeout after the provider had
-- accepted the message, the database or the dispatcher lost right after) must not be sent a
-- second time, and neither Gmail nor Twilio takes an idempotency key. So the dispatcher writes
-- the start of each provider call here, committed before the call, and clears it with the
-- outcome: a delivery that finds it set knows a send may have gone out, waits until it could
-- have landed, and looks at the provider (Gmail: the reply's Message-ID; Twilio: the messages
-- to that number since then) before it sends again. No default: the instant is the
-- dispatcher's `now`.
ALTER TABLE messages ADD COLUMN delivery_started_at timestamptz;
