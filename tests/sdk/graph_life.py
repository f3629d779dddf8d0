#!/usr/bin/env python3
"""A graph's whole life driven through the official GES Python SDK (huaweicloudsdkges).

    python tests/sdk/graph_life.py <endpoint> <project_id> <token>

The SDK is used unchanged except for authentication: it signs requests with AK/SK, this
service wants a token in X-Auth-Token. Every call goes through the SDK's typed request and
response classes; besides the SDK's own parsing, each answer's raw JSON is checked against
the SDK model's `openapi_types`, because the SDK converts primitives silently (a number
sent where it expects a string would pass unnoticed). The counts it checks assume a
project with no graphs or jobs yet (the test gives it a fresh database). Exits 0 when
every step holds, 1 with the failing step otherwise. Run by tests/api/sdk.rs.
"""

import decimal
import json
import re
import sys
import time
import traceback

from huaweicloudsdkcore.auth.credentials import BasicCredentials as SdkBasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.signer.signer import Signer
from huaweicloudsdkges.v2 import (
    ClearGraph2Request,
    CreateBackup2Request,
    CreateGraph2Request,
    CreateGraphReq,
    CreateGraphReqGraph,
    DeleteGraph2Request,
    ExpandGraph2Request,
    ExpandGraphReq,
    ExpandGraphReqExpand,
    GesClient,
    ListBackups2Request,
    ListGraphBackups2Request,
    ListGraphs2Request,
    ListGraphsRespTags,
    ListJobs2Request,
    ResizeGraph2Request,
    ResizeGraphReq,
    ResizeGraphReqResize,
    RestartGraph2Request,
    ShowGraph2Request,
    ShowJob2Request,
    StartGraph2Request,
    StartGraphReq,
    StopGraph2Request,
    UpgradeGraph2Request,
    UpgradeGraphReq,
)
from huaweicloudsdkges.v2 import model as ges_model

GRAPH = "sdk_movies"
JOB_WAIT_SECS = 60
WIRE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
FINAL = ("success", "failed", "partiallyFailed")


class BasicCredentials(SdkBasicCredentials):
    """Token authentication instead of AK/SK signing.

    Named like its parent on purpose: ClientBuilder.build() checks the credentials'
    class *name* against the client's credential type ("BasicCredentials").
    """

    def __init__(self, project_id, token):
        super().__init__(project_id=project_id)
        self._token = token

    def process_auth_request(self, request, http_client):
        def with_token(req):
            req.header_params["X-Auth-Token"] = self._token
            # What the SDK itself does for a request that is already authorized: build
            # the URI (path and query) without signing.
            Signer.process_request_uri(req)
            return req

        return http_client.executor.submit(with_token, request)


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def eq(got, want, what):
    check(got == want, f"{what}: got {got!r}, want {want!r}")


# --- the raw JSON against the SDK's models -------------------------------------------

MISMATCHES = []


def json_type_ok(value, sdk_type):
    if value is None:
        return True
    if sdk_type == "str":
        return isinstance(value, str)
    if sdk_type == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if sdk_type == "float":
        return isinstance(value, (int, decimal.Decimal)) and not isinstance(value, bool)
    if sdk_type == "bool":
        return isinstance(value, bool)
    if sdk_type == "object":
        return True
    if sdk_type.startswith("list["):
        return isinstance(value, list)
    if sdk_type.startswith("dict("):
        return isinstance(value, dict)
    return isinstance(value, dict)  # a model


def check_wire(value, sdk_type, where):
    """Records every field whose JSON type differs from what the SDK model declares."""
    if value is None:
        return
    if not json_type_ok(value, sdk_type):
        MISMATCHES.append(f"{where}: the SDK expects {sdk_type}, we send {json.dumps(value, default=float)}")
        return
    if sdk_type.startswith("list["):
        inner = sdk_type[5:-1]
        for i, item in enumerate(value):
            check_wire(item, inner, f"{where}[{i}]")
        return
    klass = getattr(ges_model, sdk_type, None)
    if klass is None or not getattr(klass, "openapi_types", None):
        return
    for attr, attr_type in klass.openapi_types.items():
        key = klass.attribute_map[attr]
        if key in value:
            check_wire(value[key], attr_type, f"{where}.{key}")


def call(what, method, request):
    """One SDK call; its typed response, with the raw JSON checked against the model."""
    response = method(request)
    eq(response.status_code, 200, f"{what}: HTTP status")
    raw = json.loads(response.raw_content, parse_float=decimal.Decimal)
    check_wire(raw, type(response).__name__, type(response).__name__)
    return response


def refused(what, method, request, status, code):
    """The call must fail with the SDK's ClientRequestException, `status` and `code`."""
    try:
        method(request)
    except ClientRequestException as e:
        eq((e.status_code, e.error_code), (status, code), f"{what}: status and error_code")
        check(e.error_msg, f"{what}: an error_msg")
        return e
    raise Failure(f"{what}: accepted, want {status} {code}")


# --- the life -----------------------------------------------------------------------


def client_for(endpoint, project_id, token):
    config = HttpConfig.get_default_config()
    config.timeout = (5, 30)
    config.retry_times = 0
    return (
        GesClient.new_builder()
        .with_http_config(config)
        .with_credentials(BasicCredentials(project_id, token))
        .with_endpoint(endpoint)
        .build()
    )


def check_job(job, name, graph=GRAPH):
    eq(job.job_type, "GraphManagement", f"{name} job_type")
    eq(job.job_name, name, "job_name")
    eq(job.related_graph, graph, f"{name} related_graph")
    check(re.fullmatch(r"[0-9a-f]{32}", job.job_id or ""), f"{name} job_id: {job.job_id!r}")
    check(WIRE_TIME.match(job.begin_time or ""), f"{name} begin_time: {job.begin_time!r}")
    if job.status in FINAL:
        check(WIRE_TIME.match(job.end_time or ""), f"{name} end_time: {job.end_time!r}")
        eq(job.job_progress, 100.0, f"{name} job_progress")
    check(isinstance(job.job_progress, float), f"{name} job_progress is a float")


def wait_job(client, graph_id, job_id, name):
    """Polls show_job2 until the job ends; it must succeed."""
    deadline = time.monotonic() + JOB_WAIT_SECS
    while True:
        job = call("show_job2", client.show_job2, ShowJob2Request(graph_id=graph_id, job_id=job_id))
        eq(job.job_id, job_id, "show_job2 job_id")
        check_job(job, name)
        if job.status in FINAL:
            eq(job.status, "success", f"{name} status (fail_reason {job.fail_reason!r})")
            check(job.fail_reason is None, f"{name} fail_reason: {job.fail_reason!r}")
            return job
        check(job.status in ("pending", "running"), f"{name} status: {job.status!r}")
        check(time.monotonic() < deadline, f"{name} {job_id} still {job.status} after {JOB_WAIT_SECS}s")
        time.sleep(0.05)


def show(client, graph_id):
    return call("show_graph2", client.show_graph2, ShowGraph2Request(graph_id=graph_id)).graph


def operate(client, graph_id, what, method, request, name):
    """An operation: it answers a job id at once, and the job must succeed."""
    accepted = call(what, method, request)
    check(accepted.job_id, f"{what}: a job_id")
    return wait_job(client, graph_id, accepted.job_id, name)


STEPS = []


def step(text):
    STEPS.append(text)
    print(f"- {text}", flush=True)


def life(client):
    step("create_graph2")
    body = CreateGraphReq(
        graph=CreateGraphReqGraph(
            name=GRAPH,
            graph_size_type_index="1",
            arch="x86_64",
            vpc_id="vpc-sdk",
            subnet_id="subnet-sdk",
            security_group_id="sg-sdk",
            tags=[ListGraphsRespTags(key="team", value="sdk")],
            enable_https=True,
        )
    )
    created = call("create_graph2", client.create_graph2, CreateGraph2Request(body=body))
    eq(created.name, GRAPH, "create_graph2 name")
    check(re.fullmatch(r"[0-9a-f]{32}", created.id or ""), f"create_graph2 id: {created.id!r}")
    graph_id = created.id

    # CreateGraph2Response has no job_id (ours is an extension the SDK drops): the
    # creation job is found through the job list, as an SDK user would.
    step("list_jobs2 finds the CreateGraph job")
    jobs = call("list_jobs2", client.list_jobs2, ListJobs2Request(graph_name=GRAPH))
    eq(jobs.job_count, 1, "jobs of the new graph")
    eq(jobs.job_list[0].job_name, "CreateGraph", "the first job")
    create_job = wait_job(client, graph_id, jobs.job_list[0].job_id, "CreateGraph")

    step("show_graph2: running")
    graph = show(client, graph_id)
    eq((graph.id, graph.name, graph.status), (graph_id, GRAPH, "200"), "id, name, status")
    eq(graph.data_store_version, "2.3.18", "data_store_version")
    eq(graph.graph_size_type_index, "1", "graph_size_type_index")
    eq((graph.vpc_id, graph.subnet_id, graph.security_group_id), ("vpc-sdk", "subnet-sdk", "sg-sdk"), "network ids")
    eq(graph.arch, "x86_64", "arch")
    eq(graph.enable_https, True, "enable_https (echoed)")
    eq([(t.key, t.value) for t in graph.tags], [("team", "sdk")], "tags")
    check(isinstance(graph.replication, int), f"replication: {graph.replication!r}")
    check(isinstance(graph.action_progress, str), f"action_progress: {graph.action_progress!r}")
    check(WIRE_TIME.match(graph.created or "") and WIRE_TIME.match(graph.updated or ""), "created/updated")
    eq((graph.schema_path, graph.edgeset_path, graph.vertexset_path), ([], [], []), "no imports yet")

    step("list_graphs2 holds it")
    graphs = call("list_graphs2", client.list_graphs2, ListGraphs2Request(offset=0, limit=10))
    eq(graphs.graph_count, 1, "graph_count")
    eq([g.id for g in graphs.graphs], [graph_id], "listed graphs")
    eq(graphs.graphs[0].status, "200", "listed status")

    step("stop_graph2, then a second stop is refused")
    operate(client, graph_id, "stop_graph2", client.stop_graph2, StopGraph2Request(graph_id=graph_id), "StopGraph")
    eq(show(client, graph_id).status, "900", "status after stop")
    refused("stop_graph2 twice", client.stop_graph2, StopGraph2Request(graph_id=graph_id), 409, "GES.7003")

    step("create_backup2 on the stopped graph")
    operate(
        client, graph_id, "create_backup2", client.create_backup2,
        CreateBackup2Request(graph_id=graph_id), "BackupGraph",
    )
    eq(show(client, graph_id).status, "900", "a backup leaves the status alone")
    backups = call(
        "list_graph_backups2", client.list_graph_backups2,
        ListGraphBackups2Request(graph_id=graph_id, offset=0, limit=10),
    )
    eq(backups.backup_count, 1, "backups of the graph")
    backup = backups.backup_list[0]
    eq((backup.status, backup.graph_id, backup.graph_name), ("success", graph_id, GRAPH), "backup")
    eq((backup.backup_method, backup.encrypted), ("manual", False), "backup method, encrypted")
    eq(backup.data_store_version, "2.3.18", "backup data_store_version")
    check(isinstance(backup.start_timestamp, int) and isinstance(backup.end_timestamp, int), "backup timestamps")
    check(backup.end_timestamp >= backup.start_timestamp, "backup ends after it starts")
    check(WIRE_TIME.match(backup.start_time or "") and WIRE_TIME.match(backup.end_time or ""), "backup times")
    check(isinstance(backup.size, int) and isinstance(backup.duration, int), "backup size, duration")
    all_backups = call("list_backups2", client.list_backups2, ListBackups2Request(offset=0, limit=10))
    eq([(b.id, b.status) for b in all_backups.backup_list], [(backup.id, "success")], "list_backups2")
    eq(all_backups.backup_count, 1, "project backup_count")

    step("start_graph2, then a second start is refused")
    operate(
        client, graph_id, "start_graph2", client.start_graph2,
        StartGraph2Request(graph_id=graph_id, body=StartGraphReq()), "StartGraph",
    )
    eq(show(client, graph_id).status, "200", "status after start")
    refused(
        "start_graph2 on a running graph", client.start_graph2,
        StartGraph2Request(graph_id=graph_id, body=StartGraphReq()), 409, "GES.7037",
    )

    step("upgrade_graph2 to 2.4.0")
    operate(
        client, graph_id, "upgrade_graph2", client.upgrade_graph2,
        UpgradeGraph2Request(graph_id=graph_id, body=UpgradeGraphReq(upgrade_version="2.4.0", force_upgrade=False)),
        "UpgradeGraph",
    )
    graph = show(client, graph_id)
    eq((graph.status, graph.data_store_version), ("200", "2.4.0"), "status, version after upgrade")

    step("resize_graph2, expand_graph2")
    operate(
        client, graph_id, "resize_graph2", client.resize_graph2,
        ResizeGraph2Request(graph_id=graph_id, body=ResizeGraphReq(resize=ResizeGraphReqResize(graph_size_type_index="2"))),
        "ResizeGraph",
    )
    operate(
        client, graph_id, "expand_graph2", client.expand_graph2,
        ExpandGraph2Request(graph_id=graph_id, body=ExpandGraphReq(expand=ExpandGraphReqExpand(replication=5))),
        "ExpandGraph",
    )
    graph = show(client, graph_id)
    eq((graph.status, graph.graph_size_type_index, graph.replication), ("200", "2", 5), "after resize and expand")

    step("clear_graph2, restart_graph2")
    operate(
        client, graph_id, "clear_graph2", client.clear_graph2,
        ClearGraph2Request(graph_id=graph_id, clear_metadata=True), "ClearGraph",
    )
    operate(
        client, graph_id, "restart_graph2", client.restart_graph2,
        RestartGraph2Request(graph_id=graph_id), "RestartGraph",
    )
    eq(show(client, graph_id).status, "200", "status after restart")

    step("list_jobs2 by graph_name, and by status with offset/limit")
    names = [
        "RestartGraph", "ClearGraph", "ExpandGraph", "ResizeGraph", "UpgradeGraph",
        "StartGraph", "BackupGraph", "StopGraph", "CreateGraph",
    ]
    jobs = call("list_jobs2", client.list_jobs2, ListJobs2Request(graph_name=GRAPH, limit="100"))
    eq(jobs.job_count, len(names), "job_count of the graph")
    eq([j.job_name for j in jobs.job_list], names, "jobs newest first")
    for job in jobs.job_list:
        check_job(job, job.job_name)
        eq(job.status, "success", f"{job.job_name} status")
        check(job.job_detail is None, f"{job.job_name} has no job_detail")
    eq(jobs.job_list[-1].job_id, create_job.job_id, "the creation job is the oldest")
    page = call(
        "list_jobs2 paged", client.list_jobs2,
        ListJobs2Request(status="success", offset="2", limit="3"),
    )
    eq(page.job_count, len(names), "job_count ignores offset/limit")
    eq([j.job_id for j in page.job_list], [j.job_id for j in jobs.job_list[2:5]], "the page")
    none = call("list_jobs2 failed", client.list_jobs2, ListJobs2Request(status="failed"))
    eq((none.job_count, none.job_list), (0, []), "no failed jobs")
    refused("list_jobs2 bad status", client.list_jobs2, ListJobs2Request(status="done"), 400, "GES.0001")

    step("delete_graph2 keeping its backup; its job answers by the deleted graph's id")
    deleted = call(
        "delete_graph2", client.delete_graph2,
        DeleteGraph2Request(graph_id=graph_id, keep_backup=True, delete_eip=False),
    )
    check(deleted.job_id, "delete_graph2: a job_id")
    wait_job(client, graph_id, deleted.job_id, "DeleteGraph")
    e = refused("show_graph2 after delete", client.show_graph2, ShowGraph2Request(graph_id=graph_id), 404, "GES.7000")
    check(isinstance(e, ClientRequestException), "a ClientRequestException")
    eq(call("list_graphs2", client.list_graphs2, ListGraphs2Request()).graph_count, 0, "graphs after delete")
    kept = call("list_backups2", client.list_backups2, ListBackups2Request())
    eq([b.id for b in kept.backup_list], [backup.id], "keep_backup keeps the backup")
    refused(
        "show_job2 of an unknown job", client.show_job2,
        ShowJob2Request(graph_id=graph_id, job_id="0" * 32), 404, "GES.7007",
    )
    jobs = call("list_jobs2", client.list_jobs2, ListJobs2Request(graph_name=GRAPH, limit="100"))
    eq([j.job_name for j in jobs.job_list], ["DeleteGraph"] + names, "the whole history")


def main(argv):
    if len(argv) != 4:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    endpoint, project_id, token = argv[1:]
    client = client_for(endpoint, project_id, token)
    try:
        life(client)
    except Failure as e:
        print(f"FAILED at step {STEPS[-1]!r}: {e}", file=sys.stderr)
        return 1
    except Exception:  # an SDK exception where success was expected, a parse error...
        traceback.print_exc()
        print(f"FAILED at step {STEPS[-1] if STEPS else 'start'!r}", file=sys.stderr)
        return 1
    finally:
        if MISMATCHES:
            print("answers whose JSON types differ from the SDK models:", file=sys.stderr)
            for m in MISMATCHES:
                print(f"  {m}", file=sys.stderr)
    if MISMATCHES:
        print("FAILED: the SDK models and our answers disagree", file=sys.stderr)
        return 1
    print(f"ok: {len(STEPS)} steps through huaweicloudsdkges")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
