-- Processes serving this database together (postgres.processes = "all-active", see
-- src/server/shared.rs): each one's heartbeat, by the database's clock. Replies owned by a
-- process not seen for a while are taken over by the others. Not a tree: `migrate` and
-- the checksums leave it out, and nothing in it is personal data.
CREATE TABLE replicas (
    id TEXT PRIMARY KEY,
    started TIMESTAMPTZ NOT NULL DEFAULT now(),
    seen TIMESTAMPTZ NOT NULL DEFAULT now()
);
