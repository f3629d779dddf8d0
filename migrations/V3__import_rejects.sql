-- Rejected lines of imports, written in the same transaction as the batch they were read
-- in (so a takeover after a crash neither loses nor repeats them); each file's reject log
-- object is written from here once the file is done.
CREATE TABLE import_rejects (
    job_id      uuid   NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    kind        text   NOT NULL,
    ordinal     int    NOT NULL,
    line        bigint NOT NULL,
    reason_kind text   NOT NULL,
    reason      text   NOT NULL,
    PRIMARY KEY (job_id, kind, ordinal, line)
);
