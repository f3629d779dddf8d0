-- One statement-level trigger for every UPDATE of jobs, in place of two row triggers:
-- the count deltas of the rows whose counted key changed (V8) and the end of the file
-- entries of the jobs that ended (V9), each one statement per UPDATE statement whatever
-- its number of rows. A claim of ten jobs or a batch of endings (store::completions) runs
-- two statements instead of ten to twenty function calls; an UPDATE that changes no
-- counted column and ends no job (a heartbeat) finds nothing to write.
DROP TRIGGER jobs_delta_update ON jobs;
DROP TRIGGER jobs_end_their_files ON jobs;
DROP FUNCTION jobs_delta_updated();
DROP FUNCTION job_files_end_with_job();

CREATE FUNCTION jobs_updated() RETURNS trigger LANGUAGE plpgsql AS $$
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

    -- A job's file entries end when the job does, whatever ended it: an entry still
    -- pending or running becomes failed, keeping the counts it reached, with a cause (its
    -- own if it had one).
    UPDATE job_files f
       SET status = 'failed',
           cause = coalesce(f.cause, CASE
               WHEN n.status = 'failed'
                   THEN 'the job failed: ' || coalesce(n.fail_reason, 'no reason given')
               ELSE 'the job ended before this file was finished' END)
      FROM old_jobs o
      JOIN new_jobs n ON n.id = o.id
     WHERE f.job_id = n.id
       AND o.status IN ('pending', 'running')
       AND n.status IN ('success', 'partiallyFailed', 'failed')
       AND f.status IN ('pending', 'running');
    RETURN NULL;
END $$;

CREATE TRIGGER jobs_update AFTER UPDATE ON jobs
    REFERENCING OLD TABLE AS old_jobs NEW TABLE AS new_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION jobs_updated();
