SELECT id, project_id, name, status, action_progress, data_store_version, graph_size_type_index,
       replication, arch, vpc_id, subnet_id, security_group_id, tags, extra, created, updated,
       created_by, active_job_id
FROM graphs
WHERE project_id = $1 AND live AND ($2::uuid IS NULL OR id = $2)
ORDER BY created DESC, id DESC
LIMIT $3 OFFSET $4
