-- Deleting jobs deletes what belongs to them, as the foreign keys' ON DELETE CASCADE did
-- before V16 (a partitioned history has no foreign keys between its tables): their file
-- rows, rejected lines, idempotency keys and the retry keys of the jobs they retried,
-- in the statement trigger that already records the count deltas of a delete (one
-- statement per DELETE, whatever its number of rows). Retention's row deletes and any
-- manual `DELETE FROM jobs` leave nothing behind; a month dropped whole takes its rows
-- with it (store::months).
CREATE OR REPLACE FUNCTION jobs_delta_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO job_count_deltas (project_id, graph_name, status, begin_time, end_day, n)
    SELECT project_id, graph_name, status, begin_time, job_day(end_time), -count(*)
    FROM old_jobs GROUP BY 1, 2, 3, 4, 5;
    DELETE FROM job_files f USING old_jobs o
     WHERE f.job_id = o.id AND f.begin_time = o.begin_time;
    DELETE FROM import_rejects r USING old_jobs o
     WHERE r.job_id = o.id AND r.begin_time = o.begin_time;
    DELETE FROM job_idempotency_keys k USING old_jobs o
     WHERE k.project_id = o.project_id AND k.idempotency_key = o.idempotency_key
       AND k.job_id = o.id;
    DELETE FROM job_retries r USING old_jobs o WHERE r.retry_of = o.id;
    RETURN NULL;
END $$;
