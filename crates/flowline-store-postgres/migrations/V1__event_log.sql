-- The event log, its indexes, the directory and the snapshots: Flowline's first PostgreSQL
-- schema. Names and ids that are compared or ordered byte by byte use the "C" collation, so
-- that listings sort as they do on SQLite whatever the database's locale.

-- One row per tenant with a committed write. `head` is the last `seq`; an append locks the row
-- (SELECT ... FOR UPDATE), which is what keeps a tenant's seq contiguous and its commits in seq
-- order whatever the number of writers.
CREATE TABLE tenants (
    id                   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant               text COLLATE "C" NOT NULL UNIQUE,
    head                 bigint NOT NULL DEFAULT 0,
    latest_business_time bigint
);

-- Global positions. Taken as the last step of an append, after every check has passed.
CREATE SEQUENCE positions AS bigint MINVALUE 1 NO CYCLE;

-- A stream per (tenant, name), with its current version and the business times of its first
-- and latest events, which lists sort and filter by.
CREATE TABLE streams (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id integer NOT NULL REFERENCES tenants (id),
    name      text COLLATE "C" NOT NULL,
    version   bigint NOT NULL,
    created   bigint NOT NULL,
    updated   bigint NOT NULL,
    UNIQUE (tenant_id, name)
);

-- Times are microseconds since the Unix epoch; `checksum` is the CRC-32 of
-- flowline_store::event_checksum as a signed 32-bit integer.
CREATE TABLE events (
    position       bigint PRIMARY KEY,
    tenant_id      integer NOT NULL REFERENCES tenants (id),
    seq            bigint NOT NULL,
    stream_id      bigint NOT NULL REFERENCES streams (id),
    stream_version bigint NOT NULL,
    event_type     text NOT NULL,
    schema_version bigint NOT NULL,
    business_time  bigint NOT NULL,
    recorded_at    bigint NOT NULL,
    payload        text NOT NULL,
    checksum       integer NOT NULL,
    UNIQUE (tenant_id, seq),
    UNIQUE (stream_id, stream_version)
);

CREATE TABLE idempotency (
    tenant_id    integer NOT NULL REFERENCES tenants (id),
    key          text COLLATE "C" NOT NULL,
    request_hash text NOT NULL,
    response     text NOT NULL,
    recorded_at  bigint NOT NULL,
    PRIMARY KEY (tenant_id, key)
);

CREATE TABLE balances (
    tenant_id   integer NOT NULL REFERENCES tenants (id),
    item        text COLLATE "C" NOT NULL,
    location    text COLLATE "C" NOT NULL,
    on_hand     bigint NOT NULL,
    reserved    bigint NOT NULL,
    value_minor bigint NOT NULL,
    PRIMARY KEY (tenant_id, item, location)
);

CREATE TABLE registered_tenants (
    tenant     text COLLATE "C" PRIMARY KEY,
    name       text NOT NULL,
    created_at bigint NOT NULL
);

CREATE TABLE api_keys (
    key_id              text COLLATE "C" PRIMARY KEY,
    tenant              text COLLATE "C" NOT NULL REFERENCES registered_tenants (tenant),
    role                text NOT NULL,
    label               text NOT NULL,
    secret_hash         text NOT NULL,
    created_at          bigint NOT NULL,
    revoked_at          bigint,
    requests_per_second integer
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant, created_at, key_id);

CREATE TABLE snapshots (
    tenant     text COLLATE "C" NOT NULL,
    projection text COLLATE "C" NOT NULL,
    bytes      bytea NOT NULL,
    PRIMARY KEY (tenant, projection)
);

-- Reading "all" with no event ever skipped. Positions come from a sequence, so a transaction
-- may take a position and commit after another that took a later one; a reader that returned
-- the later event would then skip the earlier one for good. So an append, before it takes its
-- positions, marks itself in flight with a shared advisory lock whose key holds a floor under
-- them (the sequence's value before it takes any), and the lock lasts until it commits or rolls
-- back. A reader reads the sequence first, then the marks, and returns events only up to the
-- lower of the sequence's value and the lowest mark less one: everything at or below that is
-- committed or will never be.
--
-- A mark's key is the store's tag (15 bits, so that stores in several schemas of one database
-- do not read each other's marks) above a 48-bit position.
CREATE TABLE store (
    lock_tag integer NOT NULL CHECK (lock_tag BETWEEN 0 AND 32767)
);
INSERT INTO store (lock_tag) VALUES (floor(random() * 32768)::integer);

CREATE FUNCTION take_positions(count integer) RETURNS SETOF bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    tag bigint := (SELECT lock_tag FROM store);
    floor_position bigint;
BEGIN
    SELECT CASE WHEN is_called THEN last_value ELSE 0 END INTO floor_position FROM positions;
    PERFORM pg_advisory_xact_lock_shared((tag << 48) | (floor_position + 1));
    RETURN QUERY SELECT nextval('positions') FROM generate_series(1, count);
END
$$;

CREATE FUNCTION readable_position() RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    tag bigint := (SELECT lock_tag FROM store);
    taken bigint;
    lowest_mark bigint;
BEGIN
    SELECT CASE WHEN is_called THEN last_value ELSE 0 END INTO taken FROM positions;
    SELECT min(((classid::bigint & 65535) << 32) | objid::bigint) INTO lowest_mark
    FROM pg_locks
    WHERE locktype = 'advisory'
      AND objsubid = 1
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND (classid::bigint >> 16) = tag;
    IF lowest_mark IS NULL THEN
        RETURN taken;
    END IF;
    RETURN least(taken, lowest_mark - 1);
END
$$;
