-- The claim (store::queue::claim): $1 worker id, $2 job types, $3 batch size, $4 lease
-- seconds, $5 project (NULL: any), $6 the queue's horizon (service::horizon; NULL: every
-- month). Only jobs that began at or after the horizon are read, so a generic plan prunes
-- the older months as it starts; without it every claim opens and scans every month's
-- part of jobs_claimable, and the update every month's key. The picked rows are updated by
-- their keys as arrays: a generic plan (db::begin_unflushed) does not know the batch size,
-- and a join to the picked rows was planned as a hash join over every month of jobs. The
-- begin-time range of the picked rows prunes the months as the statement runs (`= ANY` of
-- an array does not), so the update probes only the months the batch came from.
WITH picked AS MATERIALIZED (
    SELECT c.id, c.begin_time
    FROM unnest($2::text[]) AS t (job_type)
    CROSS JOIN LATERAL (
        SELECT id, begin_time, priority, run_after FROM jobs
        WHERE status = 'pending' AND job_type = t.job_type AND run_after <= now()
          AND ($5::text IS NULL OR project_id = $5)
          AND begin_time >= coalesce($6::timestamptz, '-infinity')
          AND jsonb_typeof(payload) = 'object' AND payload <> '{}'::jsonb
        ORDER BY priority DESC, run_after, id
        LIMIT $3
        FOR UPDATE SKIP LOCKED) AS c
    ORDER BY c.priority DESC, c.run_after, c.id
    LIMIT $3)
UPDATE jobs j
SET status = 'running', attempt = j.attempt + 1, lease_token = gen_random_uuid(),
    lease_expires_at = now() + make_interval(secs => $4), worker_id = $1,
    started_at = coalesce(j.started_at, now())
WHERE j.begin_time >= coalesce($6::timestamptz, '-infinity')
  AND j.id = ANY (ARRAY(SELECT id FROM picked))
  AND j.begin_time = ANY (ARRAY(SELECT begin_time FROM picked))
  AND j.begin_time BETWEEN (SELECT min(begin_time) FROM picked)
                       AND (SELECT max(begin_time) FROM picked)
RETURNING j.id, j.project_id, j.job_type, j.job_name, j.graph_id, j.graph_name,
          j.payload, j.attempt, j.max_attempts, j.lease_token AS "lease_token!",
          j.lease_expires_at AS "lease_expires_at!", j.cancel_requested
