-- Broadcasts (keys.rs): the broadcasts themselves and their outbox, one entry per
-- (broadcast, citizen). Plain key-value tables, as the sled trees, so key order (and so
-- paging by channel and citizen) is sled's.

-- u64 big-endian id -> Broadcast
CREATE TABLE broadcastid_broadcast (
    k BYTEA PRIMARY KEY,
    v BYTEA NOT NULL
);

-- u64 big-endian broadcast id, channel 0x00 citizen-id -> Delivery
CREATE TABLE broadcastrecipient_delivery (
    k BYTEA PRIMARY KEY,
    v BYTEA NOT NULL
);
