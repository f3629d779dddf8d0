-- jobs_updated (V16) ends a job's file entries when the job ends. Its UPDATE of job_files
-- ran for every UPDATE of jobs, a claim or a heartbeat too, and each run opened every
-- month of job_files to find nothing. It now runs only when the statement left some job
-- in an ended status; the UPDATE itself still decides which entries end (docs/scale-out.md).
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

    IF NOT EXISTS (SELECT FROM new_jobs
                   WHERE status IN ('success', 'partiallyFailed', 'failed')) THEN
        RETURN NULL;
    END IF;

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
