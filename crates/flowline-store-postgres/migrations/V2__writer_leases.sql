-- Which process writes each tenant when several share the database (flowline_store::lease).
-- `token` goes up by one whenever another holder takes the lease; appends made under an older
-- token are refused.
CREATE TABLE writer_leases (
    tenant     text COLLATE "C" PRIMARY KEY,
    holder     text NOT NULL,
    address    text NOT NULL,
    token      bigint NOT NULL,
    expires_at timestamptz NOT NULL
);
