#!/usr/bin/env python3
"""A backup moved out and back through the official GES Python SDK (huaweicloudsdkges):
export_backup2 and import_backup2.

    python tests/sdk/backup_transfer.py <endpoint> <project_id> <token>

The graph is imported from the movies fixtures (the test copies them to demo/movies in the
service's storage), exported to demo/before, backed up; the backup is exported to
demo/backup-out; the graph is cleared; the exported files are imported as a new backup; the
graph is stopped and started from that backup, then exported to demo/after. The test
(tests/api/sdk.rs) then compares demo/before with demo/after: the same graph. Uses the
helpers of graph_life.py (same checks of every answer against the SDK's models). Exits 0
when every step holds, 1 with the failing step otherwise.
"""

import sys
import traceback

from huaweicloudsdkges.v2 import (
    ClearGraph2Request,
    CreateBackup2Request,
    CreateGraph2Request,
    CreateGraphReq,
    CreateGraphReqGraph,
    ExportBackup2Request,
    ExportBackupReq,
    ExportGraph2Request,
    ExportGraphReq,
    ImportBackup2Request,
    ImportBackupReq,
    ImportGraph2Request,
    ImportGraphReq,
    ListGraphBackups2Request,
    ListJobs2Request,
    StartGraph2Request,
    StartGraphReq,
    StopGraph2Request,
)

import graph_life as sdk
from graph_life import GRAPH, Failure, call, eq, operate, refused, step


def export(client, graph_id, directory):
    body = ExportGraphReq(
        graph_export_path=directory,
        edge_set_name="edges.csv",
        vertex_set_name="vertices.csv",
        schema_name="schema.xml",
    )
    operate(client, graph_id, "export_graph2", client.export_graph2,
            ExportGraph2Request(graph_id=graph_id, body=body), "ExportGraph")


def backups(client, graph_id):
    return call("list_graph_backups2", client.list_graph_backups2,
                ListGraphBackups2Request(graph_id=graph_id, offset=0, limit=10)).backup_list


def transfer(client):
    step("create_graph2 and wait for its job")
    body = CreateGraphReq(graph=CreateGraphReqGraph(
        name=GRAPH, graph_size_type_index="1", vpc_id="v", subnet_id="s", security_group_id="g"))
    graph_id = call("create_graph2", client.create_graph2, CreateGraph2Request(body=body)).id
    jobs = call("list_jobs2", client.list_jobs2, ListJobs2Request(graph_name=GRAPH))
    sdk.wait_job(client, graph_id, jobs.job_list[0].job_id, "CreateGraph")

    step("import_graph2 the movies, export_graph2 to demo/before")
    imported = ImportGraphReq(schema_path="demo/movies/schema.xml",
                              vertexset_path="demo/movies/vertices.csv",
                              edgeset_path="demo/movies/edges.csv")
    operate(client, graph_id, "import_graph2", client.import_graph2,
            ImportGraph2Request(graph_id=graph_id, body=imported), "ImportGraph")
    export(client, graph_id, "demo/before")

    step("create_backup2")
    operate(client, graph_id, "create_backup2", client.create_backup2,
            CreateBackup2Request(graph_id=graph_id), "BackupGraph")
    [backup] = backups(client, graph_id)
    eq(backup.status, "success", "the backup's status")

    step("export_backup2 refuses an unknown backup and a bad path")
    refused("export_backup2 of no backup", client.export_backup2,
            ExportBackup2Request(graph_id=graph_id, body=ExportBackupReq(
                backup_id="0" * 32, export_path="demo/backup-out")), 400, "GES.0001")
    refused("export_backup2 to ../x", client.export_backup2,
            ExportBackup2Request(graph_id=graph_id, body=ExportBackupReq(
                backup_id=backup.id, export_path="../x")), 400, "GES.7011")

    step("export_backup2 to demo/backup-out")
    operate(client, graph_id, "export_backup2", client.export_backup2,
            ExportBackup2Request(graph_id=graph_id, body=ExportBackupReq(
                backup_id=backup.id, export_path="demo/backup-out")), "ExportBackup")

    step("clear_graph2: the data is gone")
    operate(client, graph_id, "clear_graph2", client.clear_graph2,
            ClearGraph2Request(graph_id=graph_id), "ClearGraph")

    step("import_backup2 refuses a path with no backup, then imports demo/backup-out")
    refused("import_backup2 of nothing", client.import_backup2,
            ImportBackup2Request(graph_id=graph_id, body=ImportBackupReq(import_path="demo/nothing")),
            400, "GES.7017")
    operate(client, graph_id, "import_backup2", client.import_backup2,
            ImportBackup2Request(graph_id=graph_id, body=ImportBackupReq(import_path="demo/backup-out")),
            "ImportBackup")
    listed = backups(client, graph_id)
    eq(len(listed), 2, "backups after the import")
    new = [b for b in listed if b.id != backup.id][0]
    eq((new.status, new.size > 0), ("success", True), "the imported backup's status and size")

    step("stop_graph2, start_graph2 from the imported backup, export_graph2 to demo/after")
    operate(client, graph_id, "stop_graph2", client.stop_graph2,
            StopGraph2Request(graph_id=graph_id), "StopGraph")
    operate(client, graph_id, "start_graph2", client.start_graph2,
            StartGraph2Request(graph_id=graph_id, body=StartGraphReq(graph_backup_id=new.id)),
            "StartGraph")
    eq(sdk.show(client, graph_id).status, "200", "status after the start")
    export(client, graph_id, "demo/after")


def main(argv):
    if len(argv) != 4:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    endpoint, project_id, token = argv[1:]
    client = sdk.client_for(endpoint, project_id, token)
    try:
        transfer(client)
    except Failure as e:
        print(f"FAILED at step {sdk.STEPS[-1]!r}: {e}", file=sys.stderr)
        return 1
    except Exception:
        traceback.print_exc()
        print(f"FAILED at step {sdk.STEPS[-1] if sdk.STEPS else 'start'!r}", file=sys.stderr)
        return 1
    if sdk.MISMATCHES:
        print("answers whose JSON types differ from the SDK models:", file=sys.stderr)
        for line in sdk.MISMATCHES:
            print(f"  {line}", file=sys.stderr)
        return 1
    print("backups moved out and back through the SDK: the same graph")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
