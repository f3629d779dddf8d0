-- Graphs, their data and backups, and the columns the durable worker queue needs.

CREATE TABLE graphs (
    id                    uuid        PRIMARY KEY,
    project_id            text        NOT NULL,
    name                  text        NOT NULL,
    -- GES status code: 100 preparing, 200 running, ..., 400 deleted, 900 stopped (see domain::graph)
    status                smallint    NOT NULL,
    action_progress       real        NOT NULL DEFAULT 0,
    data_store_version    text        NOT NULL,
    graph_size_type_index int         NOT NULL,
    replication           int         NOT NULL,
    arch                  text        NOT NULL,
    vpc_id                text,
    subnet_id             text,
    security_group_id     text,
    tags                  jsonb       NOT NULL DEFAULT '[]',
    -- Cloud-only create fields, stored and echoed back.
    extra                 jsonb       NOT NULL DEFAULT '{}',
    created               timestamptz NOT NULL,
    updated               timestamptz NOT NULL,
    created_by            text,
    -- The one operation in flight on this graph (NULL when none).
    active_job_id         uuid,
    loaded                boolean     NOT NULL DEFAULT false,
    schema_xml            text
);

-- Names are unique per project among graphs that are not deleted.
CREATE UNIQUE INDEX graphs_live_name ON graphs (project_id, name) WHERE status <> 400;
CREATE INDEX graphs_live_by_project ON graphs (project_id, created DESC, id DESC) WHERE status <> 400;

CREATE TABLE graph_vertices (
    graph_id uuid  NOT NULL REFERENCES graphs (id) ON DELETE CASCADE,
    id       text  NOT NULL,
    label    text  NOT NULL,
    props    jsonb NOT NULL DEFAULT '[]',
    PRIMARY KEY (graph_id, id)
);

CREATE TABLE graph_edges (
    graph_id uuid   NOT NULL REFERENCES graphs (id) ON DELETE CASCADE,
    seq      bigint GENERATED ALWAYS AS IDENTITY,
    source   text   NOT NULL,
    target   text   NOT NULL,
    label    text   NOT NULL,
    props    jsonb  NOT NULL DEFAULT '[]',
    PRIMARY KEY (graph_id, seq)
);
CREATE INDEX graph_edges_by_ends ON graph_edges (graph_id, source, target, label);

CREATE TABLE backups (
    id                    uuid        PRIMARY KEY,
    project_id            text        NOT NULL,
    graph_id              uuid        NOT NULL,
    graph_name            text        NOT NULL,
    name                  text        NOT NULL,
    backup_method         text        NOT NULL,
    status                text        NOT NULL,
    job_id                uuid,
    graph_status          smallint    NOT NULL,
    graph_size_type_index int         NOT NULL,
    data_store_version    text        NOT NULL,
    arch                  text        NOT NULL,
    start_time            timestamptz NOT NULL,
    end_time              timestamptz,
    size                  bigint      NOT NULL DEFAULT 0,
    schema_xml            text,
    CONSTRAINT backups_status_known CHECK (status IN ('backing_up', 'success', 'failed')),
    CONSTRAINT backups_method_known CHECK (backup_method IN ('manual', 'auto'))
);
CREATE INDEX backups_by_project ON backups (project_id, start_time DESC, id DESC);
CREATE INDEX backups_by_graph ON backups (graph_id, start_time DESC, id DESC);

CREATE TABLE backup_vertices (
    backup_id uuid  NOT NULL REFERENCES backups (id) ON DELETE CASCADE,
    id        text  NOT NULL,
    label     text  NOT NULL,
    props     jsonb NOT NULL,
    PRIMARY KEY (backup_id, id)
);

CREATE TABLE backup_edges (
    backup_id uuid   NOT NULL REFERENCES backups (id) ON DELETE CASCADE,
    seq       bigint NOT NULL,
    source    text   NOT NULL,
    target    text   NOT NULL,
    label     text   NOT NULL,
    props     jsonb  NOT NULL,
    PRIMARY KEY (backup_id, seq)
);

-- The queue: a pending job is claimable once run_after has passed; a running job holds a
-- lease (token + expiry) renewed by heartbeat. Every write of a worker names its lease
-- token, so a worker whose lease was taken over can no longer change the job.
ALTER TABLE jobs
    ADD COLUMN payload          jsonb       NOT NULL DEFAULT '{}',
    ADD COLUMN attempt          int         NOT NULL DEFAULT 0,
    ADD COLUMN max_attempts     int         NOT NULL DEFAULT 3,
    ADD COLUMN priority         int         NOT NULL DEFAULT 0,
    ADD COLUMN run_after        timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN lease_token      uuid,
    ADD COLUMN lease_expires_at timestamptz,
    ADD COLUMN worker_id        text,
    ADD COLUMN started_at       timestamptz,
    ADD COLUMN cancel_requested boolean     NOT NULL DEFAULT false;

CREATE INDEX jobs_claimable ON jobs (job_type, priority DESC, run_after, id) WHERE status = 'pending';
CREATE INDEX jobs_leased ON jobs (lease_expires_at) WHERE status = 'running';
-- One graph operation in flight per graph, whatever the code above it does.
CREATE UNIQUE INDEX jobs_one_in_flight_per_graph ON jobs (graph_id)
    WHERE status IN ('pending', 'running') AND job_type = 'GraphManagement';
