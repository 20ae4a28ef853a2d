-- A ticket's conversation is read only with its customer's access token (issue 13).
--
-- The token is HMAC-SHA256(server secret, tenant | ticket number | access_nonce): the server
-- derives it again whenever it is needed (the form's idempotent replay, a lookup by number and
-- email, the link in every email and WhatsApp reply), so it is never stored. The database keeps
-- the nonce and the token's SHA-256, which is what a presented token is checked against: a copy
-- of the database alone yields no token. Both are set together, when the ticket's token is
-- first issued; a ticket without them opens for no one.
ALTER TABLE tickets
    ADD COLUMN access_nonce bytea,
    ADD COLUMN access_hash  bytea,
    ADD CONSTRAINT tickets_access_set_together
        CHECK ((access_nonce IS NULL) = (access_hash IS NULL));
