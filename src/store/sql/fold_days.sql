-- The fold (store::counts::merge_days): adds the visible deltas to the day counts.
-- Like every fold statement it reads job_count_deltas once (store::plans::check_fold_plans).
MERGE INTO job_counts_day c
USING (SELECT d.project_id, g.key AS graph_key, s.key AS status_key,
              d.day, d.end_day AS end_key, sum(d.n)::int8 AS n
       FROM (SELECT project_id, graph_name, status,
                    (begin_time AT TIME ZONE 'UTC')::date AS day, end_day, sum(n) AS n
             FROM job_count_deltas GROUP BY 1, 2, 3, 4, 5) AS d
       CROSS JOIN LATERAL (VALUES (coalesce(d.graph_name, '')), ('*')) AS g (key)
       CROSS JOIN LATERAL (VALUES (d.status), ('*')) AS s (key)
       GROUP BY 1, 2, 3, 4, 5 HAVING sum(d.n) <> 0) AS x
ON c.project_id = x.project_id AND c.graph_key = x.graph_key
   AND c.status_key = x.status_key AND c.day = x.day AND c.end_key = x.end_key
WHEN MATCHED AND c.n + x.n = 0 THEN DELETE
WHEN MATCHED THEN UPDATE SET n = c.n + x.n
WHEN NOT MATCHED THEN INSERT (project_id, graph_key, status_key, day, end_key, n)
     VALUES (x.project_id, x.graph_key, x.status_key, x.day, x.end_key, x.n)
