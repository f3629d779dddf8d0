SELECT j.id, j.project_id, j.graph_id, j.graph_name, j.job_type, j.job_name,
       j.status, j.begin_time, j.end_time, j.progress, j.fail_reason,
       ARRAY(SELECT ROW(f.kind, f.path, f.log, f.status, f.cause, f.total_lines,
                        f.failed_lines, f.successful_lines)::job_file_result
             FROM job_files f WHERE f.job_id = j.id AND f.begin_time = j.begin_time
             AND f.begin_time BETWEEN coalesce($4::timestamptz, '-infinity') AND coalesce($5::timestamptz, 'infinity')
             AND (j.job_name = 'ImportGraph' OR j.job_type <> 'GraphManagement')
             ORDER BY f.kind, f.ordinal) AS "files!: FileRows"
FROM unnest($1::uuid[], $2::text[], $3::uuid[]) AS k(id, project_id, graph_id)
JOIN jobs j ON j.id = k.id AND j.project_id = k.project_id AND j.graph_id = k.graph_id
           AND j.begin_time BETWEEN job_begin_min(k.id) AND job_begin_max(k.id)
           AND j.begin_time BETWEEN coalesce($4::timestamptz, '-infinity') AND coalesce($5::timestamptz, 'infinity')
