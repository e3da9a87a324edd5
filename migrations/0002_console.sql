-- The console's trees (keys.rs): erasures in progress, FAQ edits and closure decisions.
-- Plain key-value tables, as the sled trees.

-- as citizenkey_citizen -> empty: a leaver whose scrub has not finished
CREATE TABLE citizenkey_erasing (
    k BYTEA PRIMARY KEY,
    v BYTEA NOT NULL
);

-- comune 0x00 entry-id 0x00 lang -> FaqEdit
CREATE TABLE faqkey_edit (
    k BYTEA PRIMARY KEY,
    v BYTEA NOT NULL
);

-- comune 0x00 YYYY-MM-DD -> ClosureEdit
CREATE TABLE closurekey_closure (
    k BYTEA PRIMARY KEY,
    v BYTEA NOT NULL
);
