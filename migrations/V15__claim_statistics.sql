-- The claim (store::queue::claim) reads jobs_claimable in its order and stops after the
-- batch, provided the planner expects the batch among the pending jobs. Its filter
-- `jsonb_typeof(payload) = 'object'` had no statistics, so the planner guessed 0.5% of the
-- pending jobs pass it (10 of 2,000) and chose to read every pending job and sort them:
-- 1.7 ms a claim with 2,000 pending, growing with the queue. Statistics on the expression
-- make its estimate the real share (nearly all), and the claim an ordered index scan of
-- its batch (0.1 ms).
CREATE STATISTICS jobs_payload_kind ON (jsonb_typeof(payload)) FROM jobs;
ANALYZE jobs;
