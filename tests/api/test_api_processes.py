"""Processes of /api/: POST processes/ runs `pzcat combine` in a background worker of the server."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from api_helpers import auth

FLAGS = Path(__file__).resolve().parents[2] / "pipelines" / "data" / "flags_translation.yaml"


@pytest.fixture
def remote(api_root, tmp_path):
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    subprocess.run(["git", "-C", str(api_root), "remote", "add", "origin", str(bare)], check=True)
    return bare


def _wait(client, pid, h, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        answer = client.get(f"/api/processes/{pid}/", headers=h).json()
        assert "status" in answer, answer
        status = answer["status"]
        if status not in ("Pending", "Running"):
            return status
        time.sleep(0.5)
    raise AssertionError("the process did not end")


def test_combine_runs_and_its_output_is_a_product(client, remote) -> None:
    h = auth("alice", scope="write")
    pipes = client.get("/api/pipelines/?name=combine_redshift_dedup", headers=h).json()["results"]
    assert pipes[0]["system_config"]["param"]["combine_type"]
    used = {
        "param": {
            "combine_type": "concatenate_and_remove_duplicates",
            "flags_translation_file": str(FLAGS),
            "z_flag_homogenized_value_to_cut": 3.0,
        },
        "output_format": "parquet",
    }
    with open(FLAGS, "rb") as fh:
        r = client.post(
            "/api/processes/",
            headers=h,
            files={"flags_translation_file": fh},
            data={
                "display_name": "crc test",
                "used_config": json.dumps(used),
                "pipeline": 1,
                "inputs": [1, 3],
            },
        )
    assert r.status_code == 201, r.text
    proc = r.json()
    assert proc["upload"] == proc["id"] and proc["status"] in ("Pending", "Running")
    pid = proc["id"]
    product = client.get(f"/api/products/{pid}/", headers=h).json()
    assert product["origin"] == "Combine Redshift Catalogs"
    assert _wait(client, pid, h) == "Successful"
    product = client.get(f"/api/products/{pid}/", headers=h).json()
    assert product["status"] == 1
    found = client.get(
        f"/api/products/?status=1&internal_name={product['internal_name']}", headers=h
    ).json()
    assert found["count"] == 1
    info = client.get(f"/api/products/{pid}/main_file_info/", headers=h).json()["main_file"]
    assert info["extension"] == ".parquet" and info["n_rows"] > 0
    log = subprocess.run(
        ["git", "-C", str(remote), "log", f"pzcat-api/{pid}-alice", "--format=%an|%s"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert log[:2] == [
        f"alice|Run {pid}_crc_test (combine_redshift_dedup)",
        f"alice|Request combination {pid}_crc_test",
    ]
    shown = subprocess.run(
        ["git", "-C", str(remote), "show", f"pzcat-api/{pid}-alice:manifests/{pid}_crc_test.yaml"],
        capture_output=True,
        text=True,
    ).stdout
    assert "duplicates: remove" in shown and "cut: 3" in shown and "pipelines/data/api/" in shown


def test_training_set_maker_is_not_available(client) -> None:
    h = auth("alice", scope="write")
    tsm = client.get("/api/pipelines/?name=training_set_maker", headers=h).json()["results"][0]
    r = client.post(
        "/api/processes/",
        headers=h,
        json={"display_name": "tsm", "used_config": "{}", "pipeline": tsm["id"], "inputs": [1]},
    )
    assert r.status_code == 501 and r.json()["code"] == "api-pipeline-unavailable"


@pytest.mark.parametrize(
    "body, code",
    [
        (
            {
                "display_name": "x",
                "used_config": '{"param": {"bogus": 1}}',
                "pipeline": 1,
                "inputs": [1],
            },
            "api-bad-config",
        ),
        (
            {"display_name": "x", "used_config": "{}", "pipeline": 1, "inputs": [4242]},
            "product-not-found",
        ),
        (
            {"display_name": "x", "used_config": "not json", "pipeline": 1, "inputs": [1]},
            "api-bad-config",
        ),
    ],
)
def test_bad_process_requests(client, api_root, body, code) -> None:
    r = client.post("/api/processes/", headers=auth("alice", scope="write"), json=body)
    assert r.status_code == 400 and r.json()["code"] == code
    assert not (api_root / "build" / "api" / "submissions").exists()


def test_stop_and_unknown_process(client, remote) -> None:
    h = auth("alice", scope="write")
    assert client.get("/api/processes/999/", headers=h).status_code == 404
    r = client.post(
        "/api/processes/",
        headers=h,
        json={"display_name": "to stop", "used_config": "{}", "pipeline": 1, "inputs": [1, 2]},
    )
    pid = r.json()["id"]
    stopped = client.get(f"/api/processes/{pid}/stop/", headers=h).json()
    assert stopped["id"] == pid
    assert _wait(client, pid, h) == "Failed"  # the stop arrives while the run starts (seconds)


def test_the_queue_is_on_disk_and_any_server_process_runs_it(client, api_root, remote, monkeypatch):
    """With --workers N each process has a runner; the queue (Pending submissions on disk) and the
    runner lock are shared: a run that one process took is run by another's runner."""
    from pzcat_datasette.api import processes

    wake = processes.Worker.wake
    monkeypatch.setattr(processes.Worker, "wake", lambda self: None)  # this process never runs it
    h = auth("alice", scope="write")
    body = {"display_name": "queued", "used_config": "{}", "pipeline": 1, "inputs": [1, 4]}
    pid = client.post("/api/processes/", headers=h, json=body).json()["id"]
    time.sleep(1)
    assert client.get(f"/api/processes/{pid}/", headers=h).json()["status"] == "Pending"
    store = processes.Submissions(api_root)
    assert [s["id"] for s in processes.pending(store)] == [pid]
    monkeypatch.setattr(processes.Worker, "wake", wake)
    other = processes.Worker(api_root)  # another server process's runner, woken by its request
    other.wake()
    assert _wait(client, pid, h) == "Successful"
    assert store.get(pid)["process"]["runner"] > 0 and not processes.pending(store)


def test_a_run_left_pending_runs_when_the_server_starts(client, api_root, remote, monkeypatch):
    """A run left Pending on disk by a server that died runs when the next server starts (its
    startup wakes the runner), with no new submission and no request to the new server."""
    from ds_helpers import SyncClient

    from pzcat.catalog import Catalog
    from pzcat_datasette.api import processes
    from pzcat_datasette.serve import make_datasette

    wake = processes.Worker.wake
    monkeypatch.setattr(processes.Worker, "wake", lambda self: None)  # it dies before running it
    h = auth("alice", scope="write")
    body = {"display_name": "left over", "used_config": "{}", "pipeline": 1, "inputs": [1, 4]}
    pid = client.post("/api/processes/", headers=h, json=body).json()["id"]
    store = processes.Submissions(api_root)
    time.sleep(1)
    assert [s["id"] for s in processes.pending(store)] == [pid]
    monkeypatch.setattr(processes.Worker, "wake", wake)
    restarted = SyncClient(make_datasette(Catalog.open(api_root), response_cache=False))
    try:
        deadline = time.time() + 120
        while store.get(pid)["process"]["status"] in ("Pending", "Running"):
            assert time.time() < deadline, "the left-over run did not run"
            time.sleep(0.5)
        assert store.get(pid)["process"]["status"] == "Successful", store.get(pid)["process"]
        assert restarted.get(f"/api/processes/{pid}/", headers=h).json()["status"] == "Successful"
        assert not processes.pending(store)
        assert processes.resume(restarted.ds, api_root) is False  # nothing left: not woken
    finally:
        restarted.close()


def test_a_run_left_running_by_a_dead_server_fails_at_start(client, api_root, monkeypatch):
    """A record left Running by a server process killed mid-run is marked Failed with a reason
    when the next server starts, unless a runner really holds the runner lock."""
    import fcntl

    from ds_helpers import SyncClient

    from pzcat.catalog import Catalog
    from pzcat_datasette.api import processes
    from pzcat_datasette.serve import make_datasette

    monkeypatch.setattr(processes.Worker, "wake", lambda self: None)
    h = auth("alice", scope="write")
    body = {"display_name": "killed", "used_config": "{}", "pipeline": 1, "inputs": [1, 4]}
    pid = client.post("/api/processes/", headers=h, json=body).json()["id"]
    store = processes.Submissions(api_root)
    sub = store.get(pid)
    sub["process"].update(status="Running", runner=2**22 + 7)  # a runner that died mid-run
    store.put(sub)
    lock = api_root / "build" / "api" / "runner.lock"
    with open(lock, "a") as held:  # a live runner elsewhere: nothing is touched
        fcntl.flock(held, fcntl.LOCK_EX)
        assert processes.fail_orphans(api_root) == []
        fcntl.flock(held, fcntl.LOCK_UN)
    assert store.get(pid)["process"]["status"] == "Running"
    restarted = SyncClient(make_datasette(Catalog.open(api_root), response_cache=False))
    try:
        answer = restarted.get(f"/api/processes/{pid}/", headers=h).json()
        assert answer["status"] == "Failed", answer
        assert "stopped before the run ended" in store.get(pid)["process"]["error"]
        assert processes.fail_orphans(api_root) == []
    finally:
        restarted.close()


def test_a_full_queue_refuses_before_writing(client, api_root, remote, monkeypatch) -> None:
    from pzcat_datasette.api import processes

    monkeypatch.setattr(processes.Worker, "wake", lambda self: None)
    monkeypatch.setattr(processes, "QUEUE_SIZE", 2)
    h = auth("alice", scope="write")
    body = {"display_name": "queued", "used_config": "{}", "pipeline": 1, "inputs": [1, 4]}
    for _ in range(2):
        assert client.post("/api/processes/", headers=h, json=body).status_code == 201
    subs = sorted((api_root / "build" / "api" / "submissions").iterdir())
    branches = subprocess.run(
        ["git", "-C", str(remote), "branch", "--list"], capture_output=True, text=True
    ).stdout
    r = client.post("/api/processes/", headers=h, json=body)
    assert r.status_code == 503 and r.json()["code"] == "api-queue-full"
    assert sorted((api_root / "build" / "api" / "submissions").iterdir()) == subs
    assert (
        subprocess.run(
            ["git", "-C", str(remote), "branch", "--list"], capture_output=True, text=True
        ).stdout
        == branches
    )
