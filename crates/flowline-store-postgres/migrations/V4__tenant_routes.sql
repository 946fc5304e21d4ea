-- Which cluster each tenant's log is on, when tenants are spread over several PostgreSQL
-- clusters: read in the home database (the one `--database-url` names) only. A tenant with no
-- row is in the home database. The names are the ones the processes are given with
-- `--cluster NAME=URL`; the URLs, which hold passwords, are not stored.
CREATE TABLE tenant_routes (
    tenant  text COLLATE "C" PRIMARY KEY,
    cluster text COLLATE "C" NOT NULL
);
