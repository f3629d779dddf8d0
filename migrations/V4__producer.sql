-- The producer API: jobs enqueued by other internal services.
--
-- idempotency_key: a producer's key for one job; repeating an enqueue with the same key
-- answers the first job (INSERT ... ON CONFLICT DO NOTHING against this index).
-- retry_of: the failed job a retry was made from (a job is retried at most once).
ALTER TABLE jobs
    ADD COLUMN idempotency_key text,
    ADD COLUMN retry_of        uuid;

CREATE UNIQUE INDEX jobs_idempotency ON jobs (project_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE UNIQUE INDEX jobs_one_retry ON jobs (retry_of) WHERE retry_of IS NOT NULL;
