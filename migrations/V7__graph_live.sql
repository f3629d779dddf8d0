-- A graph is live until it is deleted (status 400). Statements say `live` instead of
-- spelling the deleted status, and the partial indexes follow the column.
ALTER TABLE graphs ADD COLUMN live boolean NOT NULL GENERATED ALWAYS AS (status <> 400) STORED;

DROP INDEX graphs_live_name;
CREATE UNIQUE INDEX graphs_live_name ON graphs (project_id, name) WHERE live;
DROP INDEX graphs_live_by_project;
CREATE INDEX graphs_live_by_project ON graphs (project_id, created DESC, id DESC) WHERE live;
