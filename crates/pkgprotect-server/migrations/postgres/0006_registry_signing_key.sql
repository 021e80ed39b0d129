-- The registry token service's signing key (RS256) and its self-signed certificate, shared
-- by every instance on this database. One row: the first instance to start inserts it
-- (`ON CONFLICT DO NOTHING`), so concurrent first starts agree on one key. On SQLite the key
-- is a 0600 file in the data directory instead.
CREATE TABLE registry_signing_keys (
    id SMALLINT PRIMARY KEY CHECK (id = 1),
    private_key_pem TEXT NOT NULL,
    certificate_pem TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
