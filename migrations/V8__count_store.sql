-- The count store: exact job-list totals at four grains, written without ever making two
-- writers wait for the same row (docs/job-list.md).
--
-- Writers only append: statement triggers (insert, delete) and a row trigger (an update
-- of a counted column) add one row per change to job_count_deltas, in the writer's own
-- transaction. A background fold (store::counts) moves the visible deltas into the
-- counts, one REPEATABLE READ transaction at a time, under an advisory lock; a reader
-- sums counts and the deltas its snapshot sees, so every total is exact in every snapshot.
--
-- Counted key: project, graph key (the graph name, '' for none, '*' for all graphs),
-- status key (the status, '*' for all), begin bucket, end key. Grains: all time (total),
-- begin month (end key: the end month), begin day and begin segment (end key: the end
-- day). 'infinity' is the end of an unfinished job. A segment is a part of a day that
-- starts at the day's start or at a row of job_segments; the fold splits a segment that
-- holds more than a few hundred jobs, so a deep page skips at most that many rows.

CREATE TABLE job_count_deltas (
    project_id text        NOT NULL,
    graph_name text,
    status     text        NOT NULL,
    begin_time timestamptz NOT NULL,
    end_day    date        NOT NULL,
    n          int         NOT NULL
) WITH (autovacuum_vacuum_threshold = 2000, autovacuum_vacuum_scale_factor = 0);
CREATE INDEX job_count_deltas_project ON job_count_deltas (project_id);

CREATE TABLE job_counts_total (
    project_id text   NOT NULL,
    graph_key  text   NOT NULL,
    status_key text   NOT NULL,
    n          bigint NOT NULL,
    PRIMARY KEY (project_id, graph_key, status_key)
);

CREATE TABLE job_counts_month (
    project_id text   NOT NULL,
    graph_key  text   NOT NULL,
    status_key text   NOT NULL,
    month      date   NOT NULL,
    end_key    date   NOT NULL,
    n          bigint NOT NULL,
    PRIMARY KEY (project_id, graph_key, status_key, month, end_key)
);

CREATE TABLE job_counts_day (
    project_id text   NOT NULL,
    graph_key  text   NOT NULL,
    status_key text   NOT NULL,
    day        date   NOT NULL,
    end_key    date   NOT NULL,
    n          bigint NOT NULL,
    PRIMARY KEY (project_id, graph_key, status_key, day, end_key)
);
-- The jobs that began before the month of an end_time filter and ended in it.
CREATE INDEX job_counts_day_by_end ON job_counts_day (project_id, graph_key, status_key, end_key, day);

CREATE TABLE job_counts_segment (
    project_id text        NOT NULL,
    graph_key  text        NOT NULL,
    status_key text        NOT NULL,
    starts_at  timestamptz NOT NULL,
    end_key    date        NOT NULL,
    n          bigint      NOT NULL,
    PRIMARY KEY (project_id, graph_key, status_key, starts_at, end_key)
);

-- A split segment's rows are replaced together.
CREATE INDEX job_counts_segment_by_start ON job_counts_segment (project_id, starts_at);

-- Where segments start inside a day (every day also has one starting at 00:00 UTC).
CREATE TABLE job_segments (
    project_id text        NOT NULL,
    starts_at  timestamptz NOT NULL,
    PRIMARY KEY (project_id, starts_at)
);

-- Days whose segments the fold should split (filled here for the converted history).
CREATE TABLE job_segment_queue (
    project_id text NOT NULL,
    day        date NOT NULL,
    PRIMARY KEY (project_id, day)
);

-- The history as job_day_counts holds it, at every grain (each day one segment).
INSERT INTO job_counts_day (project_id, graph_key, status_key, day, end_key, n)
SELECT c.project_id, c.graph_key, s.key, c.begin_day, c.end_day, sum(c.n)
FROM job_day_counts c CROSS JOIN LATERAL (VALUES (c.status), ('*')) AS s (key)
GROUP BY 1, 2, 3, 4, 5
HAVING sum(c.n) <> 0;

INSERT INTO job_counts_month (project_id, graph_key, status_key, month, end_key, n)
SELECT project_id, graph_key, status_key, date_trunc('month', day)::date,
       CASE WHEN end_key = 'infinity' THEN end_key ELSE date_trunc('month', end_key)::date END,
       sum(n)
FROM job_counts_day
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO job_counts_total (project_id, graph_key, status_key, n)
SELECT project_id, graph_key, status_key, sum(n) FROM job_counts_month GROUP BY 1, 2, 3;

INSERT INTO job_counts_segment (project_id, graph_key, status_key, starts_at, end_key, n)
SELECT project_id, graph_key, status_key, day::timestamp AT TIME ZONE 'UTC', end_key, n
FROM job_counts_day;

INSERT INTO job_segment_queue (project_id, day)
SELECT project_id, day FROM job_counts_day
WHERE graph_key = '*' AND status_key = '*'
GROUP BY 1, 2
HAVING sum(n) > 256;

DROP TRIGGER jobs_count_insert ON jobs;
DROP TRIGGER jobs_count_delete ON jobs;
DROP TRIGGER jobs_count_update ON jobs;
DROP FUNCTION jobs_count_inserted();
DROP FUNCTION jobs_count_deleted();
DROP FUNCTION jobs_count_updated();
DROP TABLE job_day_counts;

-- One delta row per counted key and begin time changed by the statement.
CREATE FUNCTION jobs_delta_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO job_count_deltas (project_id, graph_name, status, begin_time, end_day, n)
    SELECT project_id, graph_name, status, begin_time, job_day(end_time), count(*)
    FROM new_jobs GROUP BY 1, 2, 3, 4, 5;
    RETURN NULL;
END $$;

CREATE FUNCTION jobs_delta_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO job_count_deltas (project_id, graph_name, status, begin_time, end_day, n)
    SELECT project_id, graph_name, status, begin_time, job_day(end_time), -count(*)
    FROM old_jobs GROUP BY 1, 2, 3, 4, 5;
    RETURN NULL;
END $$;

CREATE FUNCTION jobs_delta_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO job_count_deltas (project_id, graph_name, status, begin_time, end_day, n)
    VALUES (OLD.project_id, OLD.graph_name, OLD.status, OLD.begin_time, job_day(OLD.end_time), -1),
           (NEW.project_id, NEW.graph_name, NEW.status, NEW.begin_time, job_day(NEW.end_time), 1);
    RETURN NULL;
END $$;

CREATE TRIGGER jobs_delta_insert AFTER INSERT ON jobs
    REFERENCING NEW TABLE AS new_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION jobs_delta_inserted();
CREATE TRIGGER jobs_delta_delete AFTER DELETE ON jobs
    REFERENCING OLD TABLE AS old_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION jobs_delta_deleted();
-- A row trigger, so that the many updates that change no counted column (heartbeats,
-- progress, leases) fire nothing at all.
CREATE TRIGGER jobs_delta_update AFTER UPDATE OF project_id, graph_name, status, begin_time, end_time ON jobs
    FOR EACH ROW
    WHEN (OLD.project_id IS DISTINCT FROM NEW.project_id
          OR OLD.graph_name IS DISTINCT FROM NEW.graph_name
          OR OLD.status IS DISTINCT FROM NEW.status
          OR OLD.begin_time IS DISTINCT FROM NEW.begin_time
          OR job_day(OLD.end_time) IS DISTINCT FROM job_day(NEW.end_time))
    EXECUTE FUNCTION jobs_delta_updated();
