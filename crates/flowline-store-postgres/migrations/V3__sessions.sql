-- The dashboard's sessions, by the hash of their id, so that they outlive a restart and every
-- process of the deployment knows them.
CREATE TABLE sessions (
    id_hash    text COLLATE "C" PRIMARY KEY,
    tenant     text COLLATE "C" NOT NULL,
    key_id     text COLLATE "C" NOT NULL,
    csrf       text NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL
);
CREATE INDEX sessions_by_key ON sessions (key_id, expires_at);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
