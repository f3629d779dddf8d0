-- The fold (store::counts::dense_touched_segments): the segments the visible deltas fall in
-- that now hold more than $1 jobs. Like every fold statement it reads job_count_deltas once
-- (store::plans::check_fold_plans).
SELECT c.project_id, c.starts_at FROM job_counts_segment c
WHERE c.graph_key = '*' AND c.status_key = '*'
  AND (c.project_id, c.starts_at) IN (
      SELECT u.project_id, greatest(date_trunc('day', u.begin_time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
                             (SELECT max(g.starts_at) FROM job_segments g
                             WHERE g.project_id = u.project_id AND g.starts_at <= u.begin_time))
      FROM (SELECT project_id, begin_time FROM job_count_deltas
            GROUP BY 1, 2 HAVING sum(n) > 0) AS u
      GROUP BY 1, 2)
GROUP BY 1, 2
HAVING sum(c.n) > $1::int8
