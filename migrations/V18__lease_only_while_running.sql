-- A job holds a lease token only while it runs: the claim sets one, and every write that
-- ends or gives back a run clears it. The batched ending of jobs (store::completions) is
-- fenced by the token alone on that ground: a `status = 'running'` beside it let the
-- generic plan, costed over every month of the history, read the month's running jobs
-- through jobs_leased (every dead lease entry too) instead of probing each id by key
-- (docs/scale.md). The constraint holds every writer to it.
ALTER TABLE jobs ADD CONSTRAINT jobs_lease_only_while_running
    CHECK (lease_token IS NULL OR status = 'running');
