-- sportello's trees as tables (src/storage/keys.rs documents each one). Keys and values
-- are stored as the exact bytes sled holds (values are JSON), so a copy between the two
-- compares byte for byte. The other columns are copies of fields of the value, written by
-- sportello itself, for the queries that filter or order by them.

-- One sequence for every increasing id (outbox, cases, ledger, audit), as sled's
-- generate_id: ids never repeat across trees.
CREATE SEQUENCE sportello_ids AS BIGINT MINVALUE 1;

-- comune 0x00 channel 0x00 citizen-id -> Citizen
CREATE TABLE citizenkey_citizen (
    k BYTEA PRIMARY KEY,
    v BYTEA NOT NULL
);

-- channel 0x00 route 0x00 provider-message-id -> InboundEntry
CREATE TABLE inboundid_inbound (
    k BYTEA PRIMARY KEY,
    v BYTEA NOT NULL,
    -- the citizen's key while the message waits; NULL once processed (text dropped)
    citizen BYTEA,
    done BOOLEAN NOT NULL,
    -- received_at, nanoseconds since the Unix epoch
    received_ns BIGINT NOT NULL
);
CREATE INDEX inboundid_inbound_pending ON inboundid_inbound (received_ns) WHERE NOT done;
CREATE INDEX inboundid_inbound_citizen ON inboundid_inbound (citizen) WHERE citizen IS NOT NULL;

-- id -> OutboundEntry
CREATE TABLE outboxid_outbound (
    id BIGINT PRIMARY KEY,
    v BYTEA NOT NULL,
    citizen BYTEA
);
CREATE INDEX outboxid_outbound_citizen ON outboxid_outbound (citizen);

-- channel 0x00 provider-message-id -> SentEntry
CREATE TABLE sentid_sent (
    k BYTEA PRIMARY KEY,
    v BYTEA NOT NULL,
    citizen BYTEA,
    -- sent_at, nanoseconds since the Unix epoch
    sent_ns BIGINT NOT NULL
);
CREATE INDEX sentid_sent_citizen ON sentid_sent (citizen);
CREATE INDEX sentid_sent_sent ON sentid_sent (sent_ns);

-- id -> ModerationCase
CREATE TABLE caseid_case (
    id BIGINT PRIMARY KEY,
    v BYTEA NOT NULL,
    comune TEXT NOT NULL,
    -- NULL once anonymized
    citizen BYTEA
);
CREATE INDEX caseid_case_comune ON caseid_case (comune, id);
CREATE INDEX caseid_case_citizen ON caseid_case (citizen) WHERE citizen IS NOT NULL;

-- id -> LedgerEntry (append-only)
CREATE TABLE ledgerid_entry (
    id BIGINT PRIMARY KEY,
    v BYTEA NOT NULL,
    comune TEXT NOT NULL,
    -- NULL once the citizen is erased
    citizen BYTEA
);
CREATE INDEX ledgerid_entry_comune ON ledgerid_entry (comune, id);
CREATE INDEX ledgerid_entry_citizen ON ledgerid_entry (citizen) WHERE citizen IS NOT NULL;

-- id -> AuditEntry (append-only)
CREATE TABLE auditid_entry (
    id BIGINT PRIMARY KEY,
    v BYTEA NOT NULL,
    comune TEXT NOT NULL
);
CREATE INDEX auditid_entry_comune ON auditid_entry (comune, id);

-- comune 0x00 YYYY-MM 0x00 metric -> count
CREATE TABLE statkey_count (
    k BYTEA PRIMARY KEY,
    comune TEXT NOT NULL,
    month TEXT NOT NULL,
    metric TEXT NOT NULL,
    n BIGINT NOT NULL
);

-- e-mail (lower case) -> Account
CREATE TABLE email_account (
    k BYTEA PRIMARY KEY,
    v BYTEA NOT NULL
);

-- SHA-256 hex of the session token -> Session
CREATE TABLE tokenhash_session (
    k BYTEA PRIMARY KEY,
    v BYTEA NOT NULL
);

-- as citizenkey_citizen -> Conversation
CREATE TABLE citizenkey_conversation (
    k BYTEA PRIMARY KEY,
    v BYTEA NOT NULL
);
