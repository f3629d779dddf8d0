-- The jobs history in monthly partitions (docs/scale-out.md, "History partitioned by
-- month"): jobs, job_files and import_rejects are partitioned by the month (UTC) of the
-- job's begin_time, with the same bounds, so retention drops a month of jobs with its file
-- rows and rejects as three tables instead of deleting row by row.
--
-- - job_files and import_rejects carry their job's begin_time; keys include it, as
--   PostgreSQL requires of a partitioned table's keys. There are no foreign keys between
--   the three (a month's partitions go together; row deletes delete a job's rows in the
--   same statement).
-- - A job's id bounds its begin_time: a UUID v7 carries the time it was made, and the
--   service makes a job's id within moments of its insert, so the CHECK
--   jobs_begin_near_id holds begin_time within a day of that time. Every read of a job by
--   id adds `begin_time BETWEEN job_begin_min(id) AND job_begin_max(id)` and probes one or
--   two months. Ids of other versions (made elsewhere) are unbounded: every month.
-- - The unique keys that cannot include begin_time move to tables of their own:
--   job_idempotency_keys (a producer's idempotency key, written in the enqueue statement)
--   and job_retries (one retry per job). One operation in flight per graph is held by the
--   graph row: it is locked (FOR UPDATE) while the state machine decides and names the
--   job in flight (graphs.active_job_id).
-- - Months are made ahead by jobs_add_month (the service makes the current and next
--   months at start and then hourly); there is no default partition, so a job of a month
--   not made is an error, never a row in the wrong place.
-- - The rows of an existing database are moved, and its counts stay as they are (the
--   same jobs).

-- The Unix time in milliseconds a UUID v7 carries (its first 48 bits); null for others.
CREATE FUNCTION job_id_millis(id uuid) RETURNS int8
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN substr(id::text, 15, 1) = '7'
                THEN ('x' || lpad(substr(replace(id::text, '-', ''), 1, 12), 16, '0'))::bit(64)::int8
           END;

CREATE FUNCTION job_begin_min(id uuid) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN coalesce(to_timestamp((job_id_millis(id) - 86400000) / 1000.0), '-infinity');

CREATE FUNCTION job_begin_max(id uuid) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN coalesce(to_timestamp((job_id_millis(id) + 86400000) / 1000.0), 'infinity');

ALTER TABLE jobs RENAME TO jobs_before_v16;
ALTER TABLE job_files RENAME TO job_files_before_v16;
ALTER TABLE import_rejects RENAME TO import_rejects_before_v16;
DROP INDEX jobs_idempotency, jobs_one_retry, jobs_one_in_flight_per_graph;

CREATE TABLE jobs (
    id               uuid        NOT NULL,
    project_id       text        NOT NULL,
    graph_id         uuid,
    graph_name       text,
    job_type         text        NOT NULL,
    job_name         text        NOT NULL,
    status           text        NOT NULL,
    begin_time       timestamptz NOT NULL,
    end_time         timestamptz,
    progress         real        NOT NULL DEFAULT 0,
    fail_reason      text,
    created_by       text,
    request_id       text,
    payload          jsonb       NOT NULL DEFAULT '{}'::jsonb,
    attempt          integer     NOT NULL DEFAULT 0,
    max_attempts     integer     NOT NULL DEFAULT 3,
    priority         integer     NOT NULL DEFAULT 0,
    run_after        timestamptz NOT NULL DEFAULT now(),
    lease_token      uuid,
    lease_expires_at timestamptz,
    worker_id        text,
    started_at       timestamptz,
    cancel_requested boolean     NOT NULL DEFAULT false,
    idempotency_key  text,
    retry_of         uuid,
    CONSTRAINT jobs_end_after_begin CHECK (end_time >= begin_time),
    CONSTRAINT jobs_end_time_iff_final
        CHECK ((status IN ('success', 'partiallyFailed', 'failed')) = (end_time IS NOT NULL)),
    CONSTRAINT jobs_graph_name_not_reserved CHECK (graph_name NOT IN ('', '*')),
    CONSTRAINT jobs_progress_percent CHECK (progress >= 0 AND progress <= 100),
    CONSTRAINT jobs_status_known
        CHECK (status IN ('pending', 'running', 'success', 'partiallyFailed', 'failed')),
    CONSTRAINT jobs_begin_near_id
        CHECK (begin_time BETWEEN job_begin_min(id) AND job_begin_max(id))
) PARTITION BY RANGE (begin_time);

CREATE TABLE job_files (
    job_id           uuid        NOT NULL,
    begin_time       timestamptz NOT NULL,
    kind             text        NOT NULL,
    ordinal          integer     NOT NULL,
    path             text        NOT NULL,
    log              text,
    status           text        NOT NULL,
    cause            text,
    total_lines      bigint      NOT NULL DEFAULT -1,
    failed_lines     bigint      NOT NULL DEFAULT -1,
    successful_lines bigint      NOT NULL DEFAULT -1,
    CONSTRAINT job_files_kind_known CHECK (kind IN ('schema', 'edge', 'vertex')),
    CONSTRAINT job_files_status_known
        CHECK (status IN ('pending', 'running', 'success', 'failed', 'partFailed'))
) PARTITION BY RANGE (begin_time);

CREATE TABLE import_rejects (
    job_id      uuid        NOT NULL,
    begin_time  timestamptz NOT NULL,
    kind        text        NOT NULL,
    ordinal     integer     NOT NULL,
    line        bigint      NOT NULL,
    reason_kind text        NOT NULL,
    reason      text        NOT NULL
) PARTITION BY RANGE (begin_time);

-- Makes the month of `day` (its partitions of jobs, job_files and import_rejects, and the
-- claim's statistics on its jobs) unless it exists; answers whether it made it. Callers
-- from several instances are serialised by an advisory lock.
CREATE FUNCTION jobs_add_month(day date) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    lo     timestamptz := date_trunc('month', day)::timestamp AT TIME ZONE 'UTC';
    hi     timestamptz := (date_trunc('month', day) + interval '1 month')::timestamp AT TIME ZONE 'UTC';
    suffix text        := to_char(date_trunc('month', day), 'YYYY_MM');
    t      text;
BEGIN
    IF to_regclass('jobs_' || suffix) IS NOT NULL THEN
        RETURN false;
    END IF;
    PERFORM pg_advisory_xact_lock(7016);
    IF to_regclass('jobs_' || suffix) IS NOT NULL THEN
        RETURN false;
    END IF;
    FOREACH t IN ARRAY ARRAY['jobs', 'job_files', 'import_rejects'] LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                       t || '_' || suffix, t, lo, hi);
    END LOOP;
    EXECUTE format('CREATE STATISTICS %I ON (jsonb_typeof(payload)) FROM %I',
                   'jobs_' || suffix || '_payload_kind', 'jobs_' || suffix);
    RETURN true;
END $$;

-- Detaches and drops the month of `day` (its three partitions); answers whether it
-- existed. The caller has checked that every job of the month may go.
CREATE FUNCTION jobs_drop_month(day date) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    suffix text := to_char(date_trunc('month', day), 'YYYY_MM');
    t      text;
BEGIN
    IF to_regclass('jobs_' || suffix) IS NULL THEN
        RETURN false;
    END IF;
    FOREACH t IN ARRAY ARRAY['import_rejects', 'job_files', 'jobs'] LOOP
        EXECUTE format('ALTER TABLE %I DETACH PARTITION %I', t, t || '_' || suffix);
        EXECUTE format('DROP TABLE %I', t || '_' || suffix);
    END LOOP;
    RETURN true;
END $$;

-- The months of the history, the current one and the next.
SELECT count(*) FILTER (WHERE jobs_add_month(m::date)) AS months_made
FROM generate_series(
         date_trunc('month', least(now(), (SELECT min(begin_time) FROM jobs_before_v16)) AT TIME ZONE 'UTC'),
         date_trunc('month', greatest(now() + interval '1 month',
                                      (SELECT max(begin_time) FROM jobs_before_v16)) AT TIME ZONE 'UTC'),
         interval '1 month') AS m;

INSERT INTO jobs SELECT * FROM jobs_before_v16;
INSERT INTO job_files (job_id, begin_time, kind, ordinal, path, log, status, cause,
                       total_lines, failed_lines, successful_lines)
SELECT f.job_id, j.begin_time, f.kind, f.ordinal, f.path, f.log, f.status, f.cause,
       f.total_lines, f.failed_lines, f.successful_lines
FROM job_files_before_v16 f JOIN jobs_before_v16 j ON j.id = f.job_id;
INSERT INTO import_rejects (job_id, begin_time, kind, ordinal, line, reason_kind, reason)
SELECT r.job_id, j.begin_time, r.kind, r.ordinal, r.line, r.reason_kind, r.reason
FROM import_rejects_before_v16 r JOIN jobs_before_v16 j ON j.id = r.job_id;

CREATE TABLE job_idempotency_keys (
    project_id      text        NOT NULL,
    idempotency_key text        NOT NULL,
    job_id          uuid        NOT NULL,
    begin_time      timestamptz NOT NULL,
    CONSTRAINT jobs_idempotency PRIMARY KEY (project_id, idempotency_key)
);
CREATE INDEX job_idempotency_keys_by_begin ON job_idempotency_keys (begin_time);
INSERT INTO job_idempotency_keys
SELECT project_id, idempotency_key, id, begin_time FROM jobs_before_v16
WHERE idempotency_key IS NOT NULL;

-- retried_begin: the retried job's begin_time (the key goes with its month).
CREATE TABLE job_retries (
    retry_of      uuid        NOT NULL,
    retried_begin timestamptz NOT NULL,
    job_id        uuid        NOT NULL,
    CONSTRAINT jobs_one_retry PRIMARY KEY (retry_of)
);
CREATE INDEX job_retries_by_begin ON job_retries (retried_begin);
INSERT INTO job_retries
SELECT r.retry_of, o.begin_time, r.id FROM jobs_before_v16 r
JOIN jobs_before_v16 o ON o.id = r.retry_of;

DROP TABLE import_rejects_before_v16, job_files_before_v16, jobs_before_v16;

ALTER TABLE jobs ADD CONSTRAINT jobs_pkey PRIMARY KEY (id, begin_time);
ALTER TABLE job_files ADD CONSTRAINT job_files_pkey PRIMARY KEY (job_id, kind, ordinal, begin_time);
ALTER TABLE import_rejects
    ADD CONSTRAINT import_rejects_pkey PRIMARY KEY (job_id, kind, ordinal, line, begin_time);
CREATE INDEX jobs_by_project ON jobs (project_id, begin_time DESC, id DESC);
CREATE INDEX jobs_by_status ON jobs (project_id, status, begin_time DESC, id DESC);
CREATE INDEX jobs_by_graph ON jobs (project_id, graph_name, begin_time DESC, id DESC)
    WHERE graph_name IS NOT NULL;
CREATE INDEX jobs_by_graph_status ON jobs (project_id, graph_name, status, begin_time DESC, id DESC)
    WHERE graph_name IS NOT NULL;
CREATE INDEX jobs_claimable ON jobs (job_type, priority DESC, run_after, id) WHERE status = 'pending';
CREATE INDEX jobs_ended ON jobs (status, end_time) WHERE end_time IS NOT NULL;
CREATE INDEX jobs_leased ON jobs (lease_expires_at) WHERE status = 'running';

CREATE OR REPLACE FUNCTION jobs_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO job_count_deltas (project_id, graph_name, status, begin_time, end_day, n)
    SELECT k.project_id, k.graph_name, k.status, k.begin_time, k.end_day, sum(k.n)
    FROM old_jobs o
    JOIN new_jobs n ON n.id = o.id
    CROSS JOIN LATERAL (VALUES
        (o.project_id, o.graph_name, o.status, o.begin_time, job_day(o.end_time), -1),
        (n.project_id, n.graph_name, n.status, n.begin_time, job_day(n.end_time), 1))
        AS k (project_id, graph_name, status, begin_time, end_day, n)
    WHERE (o.project_id, o.graph_name, o.status, o.begin_time, job_day(o.end_time))
          IS DISTINCT FROM (n.project_id, n.graph_name, n.status, n.begin_time, job_day(n.end_time))
    GROUP BY 1, 2, 3, 4, 5
    HAVING sum(k.n) <> 0;

    -- A job's file entries end when the job does (V12).
    UPDATE job_files f
       SET status = 'failed',
           cause = coalesce(f.cause, CASE
               WHEN n.status = 'failed'
                   THEN 'the job failed: ' || coalesce(n.fail_reason, 'no reason given')
               ELSE 'the job ended before this file was finished' END)
      FROM old_jobs o
      JOIN new_jobs n ON n.id = o.id
     WHERE f.job_id = n.id AND f.begin_time = n.begin_time
       AND o.status IN ('pending', 'running')
       AND n.status IN ('success', 'partiallyFailed', 'failed')
       AND f.status IN ('pending', 'running');
    RETURN NULL;
END $$;

CREATE TRIGGER jobs_delta_insert AFTER INSERT ON jobs
    REFERENCING NEW TABLE AS new_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION jobs_delta_inserted();
CREATE TRIGGER jobs_delta_delete AFTER DELETE ON jobs
    REFERENCING OLD TABLE AS old_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION jobs_delta_deleted();
CREATE TRIGGER jobs_update AFTER UPDATE ON jobs
    REFERENCING OLD TABLE AS old_jobs NEW TABLE AS new_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION jobs_updated();

ANALYZE jobs, job_files, import_rejects;
