SELECT j.id, j.project_id, j.graph_id, j.graph_name, j.job_type, j.job_name,
       j.status, j.begin_time, j.end_time, j.progress, j.fail_reason,
       (SELECT json_agg(json_build_object('kind', f.kind, 'path', f.path,
               'log', f.log, 'status', f.status, 'cause', f.cause,
               'total_lines', f.total_lines, 'failed_lines', f.failed_lines,
               'successful_lines', f.successful_lines) ORDER BY f.kind, f.ordinal)
        FROM job_files f WHERE f.job_id = j.id
        AND (j.job_name = 'ImportGraph' OR j.job_type <> 'GraphManagement'))
       AS "files: sqlx::types::Json<Vec<FileRow>>"
FROM jobs j WHERE j.id = $1 AND j.project_id = $2 AND j.graph_id = $3
