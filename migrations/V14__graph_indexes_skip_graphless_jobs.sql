-- The two graph-name indexes hold only jobs that have a graph name. A graph-name filter is
-- an equality (`graph_name = $n`), which implies `graph_name IS NOT NULL`, so the list still
-- reads these indexes; producer jobs without a graph (the bulk of a busy queue) no longer
-- write two index entries at their insert and at each of their status changes.
DROP INDEX jobs_by_graph;
DROP INDEX jobs_by_graph_status;
CREATE INDEX jobs_by_graph ON jobs (project_id, graph_name, begin_time DESC, id DESC)
    WHERE graph_name IS NOT NULL;
CREATE INDEX jobs_by_graph_status ON jobs (project_id, graph_name, status, begin_time DESC, id DESC)
    WHERE graph_name IS NOT NULL;
