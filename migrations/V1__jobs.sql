-- Jobs, their per-file import results, and the exact per-day counts the job list reads.
--
-- The list API always filters by project and orders by (begin_time DESC, id DESC); each
-- index below serves one combination of the optional equality filters (status, graph name)
-- with that order, and a begin_time range for the date filters. job_day_counts holds the
-- number of jobs per (project, graph, status, begin day, end day); statement triggers keep
-- it exact in the same transaction as every write to jobs, so job_count is a sum of a few
-- thousand rows at most, and a deep offset is turned into "start at day D, skip k".

CREATE TABLE jobs (
    id          uuid        PRIMARY KEY,
    project_id  text        NOT NULL,
    graph_id    uuid,
    graph_name  text,
    job_type    text        NOT NULL,
    job_name    text        NOT NULL,
    status      text        NOT NULL,
    begin_time  timestamptz NOT NULL,
    end_time    timestamptz,
    progress    real        NOT NULL DEFAULT 0,
    fail_reason text,
    created_by  text,
    request_id  text,
    CONSTRAINT jobs_status_known
        CHECK (status IN ('pending', 'running', 'success', 'partiallyFailed', 'failed')),
    CONSTRAINT jobs_end_time_iff_final
        CHECK ((status IN ('success', 'partiallyFailed', 'failed')) = (end_time IS NOT NULL)),
    CONSTRAINT jobs_end_after_begin CHECK (end_time >= begin_time),
    CONSTRAINT jobs_progress_percent CHECK (progress >= 0 AND progress <= 100),
    CONSTRAINT jobs_graph_name_not_reserved CHECK (graph_name NOT IN ('', '*'))
);

CREATE INDEX jobs_by_project ON jobs (project_id, begin_time DESC, id DESC);
CREATE INDEX jobs_by_status ON jobs (project_id, status, begin_time DESC, id DESC);
CREATE INDEX jobs_by_graph ON jobs (project_id, graph_name, begin_time DESC, id DESC);
CREATE INDEX jobs_by_graph_status ON jobs (project_id, graph_name, status, begin_time DESC, id DESC);

CREATE TABLE job_files (
    job_id           uuid   NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    kind             text   NOT NULL,
    ordinal          int    NOT NULL,
    path             text   NOT NULL,
    log              text,
    status           text   NOT NULL,
    cause            text,
    total_lines      bigint NOT NULL DEFAULT -1,
    failed_lines     bigint NOT NULL DEFAULT -1,
    successful_lines bigint NOT NULL DEFAULT -1,
    PRIMARY KEY (job_id, kind, ordinal),
    CONSTRAINT job_files_kind_known CHECK (kind IN ('schema', 'edge', 'vertex')),
    CONSTRAINT job_files_status_known
        CHECK (status IN ('pending', 'running', 'success', 'failed', 'partFailed'))
);

-- graph_key: the graph name, '' for a job without a graph, '*' for "all graphs".
-- end_day: 'infinity' while the job has not ended.
CREATE TABLE job_day_counts (
    project_id text   NOT NULL,
    graph_key  text   NOT NULL,
    status     text   NOT NULL,
    begin_day  date   NOT NULL,
    end_day    date   NOT NULL,
    n          bigint NOT NULL,
    PRIMARY KEY (project_id, graph_key, status, begin_day, end_day)
);

CREATE FUNCTION job_day(t timestamptz) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN coalesce((t AT TIME ZONE 'UTC')::date, 'infinity'::date);

-- Each statement adds +1 per inserted row and -1 per deleted row; an update moves rows whose
-- counted key changed (deltas that cancel out touch nothing). Rows are aggregated per
-- statement and upserted in key order, so concurrent writers lock counter rows in one order.

CREATE FUNCTION jobs_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO job_day_counts AS c (project_id, graph_key, status, begin_day, end_day, n)
    SELECT j.project_id, g.key, j.status, job_day(j.begin_time), job_day(j.end_time), count(*)
    FROM new_jobs j
    CROSS JOIN LATERAL (VALUES (coalesce(j.graph_name, '')), ('*')) AS g (key)
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (project_id, graph_key, status, begin_day, end_day)
        DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;

CREATE FUNCTION jobs_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO job_day_counts AS c (project_id, graph_key, status, begin_day, end_day, n)
    SELECT j.project_id, g.key, j.status, job_day(j.begin_time), job_day(j.end_time), -count(*)
    FROM old_jobs j
    CROSS JOIN LATERAL (VALUES (coalesce(j.graph_name, '')), ('*')) AS g (key)
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (project_id, graph_key, status, begin_day, end_day)
        DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;

CREATE FUNCTION jobs_count_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH deltas AS (
        SELECT o.project_id, o.graph_name, o.status,
               job_day(o.begin_time) AS begin_day, job_day(o.end_time) AS end_day, -1 AS d
        FROM old_jobs o
        UNION ALL
        SELECT n.project_id, n.graph_name, n.status,
               job_day(n.begin_time), job_day(n.end_time), 1
        FROM new_jobs n
    ), summed AS (
        SELECT x.project_id, g.key, x.status, x.begin_day, x.end_day, sum(x.d)::bigint AS d
        FROM deltas x
        CROSS JOIN LATERAL (VALUES (coalesce(x.graph_name, '')), ('*')) AS g (key)
        GROUP BY 1, 2, 3, 4, 5
        HAVING sum(x.d) <> 0
    )
    INSERT INTO job_day_counts AS c (project_id, graph_key, status, begin_day, end_day, n)
    SELECT * FROM summed
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (project_id, graph_key, status, begin_day, end_day)
        DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;

CREATE TRIGGER jobs_count_insert AFTER INSERT ON jobs
    REFERENCING NEW TABLE AS new_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION jobs_count_inserted();
CREATE TRIGGER jobs_count_delete AFTER DELETE ON jobs
    REFERENCING OLD TABLE AS old_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION jobs_count_deleted();
CREATE TRIGGER jobs_count_update AFTER UPDATE ON jobs
    REFERENCING OLD TABLE AS old_jobs NEW TABLE AS new_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION jobs_count_updated();
