-- A citizen's other identities (keys.rs ALIASES_TREE): a WhatsApp business-scoped user id
-- (BSUID) naming a record keyed by number before the rollout, or a new BSUID after a change
-- of number. citizenkey -> citizenkey, both encoded; erased with the record they name.
CREATE TABLE citizenkey_alias (
    k BYTEA PRIMARY KEY,
    v BYTEA NOT NULL
);
CREATE INDEX citizenkey_alias_v ON citizenkey_alias (v);
