-- The fold (store::counts::merge_totals): adds the visible deltas to the all-time totals.
-- Like every fold statement it reads job_count_deltas once (store::plans::check_fold_plans).
MERGE INTO job_counts_total c
USING (SELECT d.project_id, g.key AS graph_key, s.key AS status_key, sum(d.n)::int8 AS n
       FROM (SELECT project_id, graph_name, status, sum(n) AS n FROM job_count_deltas
             GROUP BY 1, 2, 3) AS d
       CROSS JOIN LATERAL (VALUES (coalesce(d.graph_name, '')), ('*')) AS g (key)
       CROSS JOIN LATERAL (VALUES (d.status), ('*')) AS s (key)
       GROUP BY 1, 2, 3 HAVING sum(d.n) <> 0) AS x
ON c.project_id = x.project_id AND c.graph_key = x.graph_key AND c.status_key = x.status_key
WHEN MATCHED AND c.n + x.n = 0 THEN DELETE
WHEN MATCHED THEN UPDATE SET n = c.n + x.n
WHEN NOT MATCHED THEN INSERT (project_id, graph_key, status_key, n)
     VALUES (x.project_id, x.graph_key, x.status_key, x.n)
