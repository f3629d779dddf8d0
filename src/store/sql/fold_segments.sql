-- The fold (store::counts::merge_segments): adds the visible deltas to the segment counts.
-- A delta's segment is the latest split point of its project at or before its begin time,
-- or its day's start. `d` finds it once per group of deltas, by a probe of job_segments'
-- key. The deltas are read once and never joined to themselves: a join of two reads of
-- job_count_deltas, planned on a stale estimate of the table (a vacuum that finds it
-- nearly empty), became a nested loop over 100,000 deltas that ran for minutes
-- (docs/scale-out.md); this form costs one probe per group whatever the estimate.
WITH d AS MATERIALIZED (
    SELECT b.project_id, b.graph_name, b.status, b.end_day, b.n,
           greatest(date_trunc('day', b.begin_time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
                    (SELECT max(g.starts_at) FROM job_segments g
                     WHERE g.project_id = b.project_id AND g.starts_at <= b.begin_time)) AS starts_at
    FROM (SELECT project_id, graph_name, status, begin_time, end_day, sum(n) AS n
          FROM job_count_deltas GROUP BY 1, 2, 3, 4, 5) AS b)
MERGE INTO job_counts_segment c
USING (SELECT d.project_id, g.key AS graph_key, s.key AS status_key,
              d.starts_at, d.end_day AS end_key, sum(d.n)::int8 AS n
       FROM d
       CROSS JOIN LATERAL (VALUES (coalesce(d.graph_name, '')), ('*')) AS g (key)
       CROSS JOIN LATERAL (VALUES (d.status), ('*')) AS s (key)
       GROUP BY 1, 2, 3, 4, 5 HAVING sum(d.n) <> 0) AS x
ON c.project_id = x.project_id AND c.graph_key = x.graph_key
   AND c.status_key = x.status_key AND c.starts_at = x.starts_at AND c.end_key = x.end_key
WHEN MATCHED AND c.n + x.n = 0 THEN DELETE
WHEN MATCHED THEN UPDATE SET n = c.n + x.n
WHEN NOT MATCHED THEN INSERT (project_id, graph_key, status_key, starts_at, end_key, n)
     VALUES (x.project_id, x.graph_key, x.status_key, x.starts_at, x.end_key, x.n)
