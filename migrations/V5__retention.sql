-- Retention: finished jobs are deleted once their end_time is older than their status's
-- age (store::retention). A batch is "the oldest N jobs of one final status that ended
-- before a cutoff": a range scan of this index, never of the table. end_time is set iff
-- the job is final, so the index holds final jobs only.
CREATE INDEX jobs_ended ON jobs (status, end_time) WHERE end_time IS NOT NULL;

-- A job still named as a graph's operation in flight is never deleted; this keeps that
-- check an index probe per candidate.
CREATE INDEX graphs_active_job ON graphs (active_job_id) WHERE active_job_id IS NOT NULL;
