"""`nos2compose serve` against a real running job on the engine, with a real HTTP client and a real
headless browser (Debian's chromium, driven by Selenium through Debian's chromedriver)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import uuid

import httpx
import pytest
from helpers import CLI, IN_CI, nos2compose, serving

pytestmark = pytest.mark.e2e

IMAGE = "nos2compose-test/busybox:1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def running_job(engine, tmp_path_factory):
    """A two-group job, up: group `setup` (a finished task), group `serve` (a healthy web service and a worker)."""
    name = f"n2c-api-{uuid.uuid4().hex[:8]}"
    path = tmp_path_factory.mktemp("api") / f"{name}.json"
    web_port = free_port()
    ops = [
        {
            "type": "container/run",
            "id": "prepare",
            "args": {"image": IMAGE, "cmd": "echo prepared"},
            "execution": {"group": "setup"},
        },
        {
            "type": "container/run",
            "id": "web",
            "execution": {"group": "serve"},
            "args": {
                "image": IMAGE,
                "cmd": ["n2c-testserver", str(web_port)],
                "expose": [
                    {
                        "port": web_port,
                        "health_checks": [
                            {"type": "http", "path": "/ok", "method": "GET", "expected_status": 200, "continuous": True}
                        ],
                    }
                ],
            },
        },
        {
            "type": "container/run",
            "id": "worker",
            "execution": {"group": "serve"},
            "args": {"image": IMAGE, "cmd": "trap 'exit 0' TERM; while true; do echo working; sleep 1; done"},
        },
    ]
    path.write_text(json.dumps({"version": "0.1", "type": "container", "ops": ops}))
    up = nos2compose("up", str(path), "-d", "--pull", "never")
    assert up.returncode == 0, up.stdout + up.stderr
    yield name, str(path), web_port
    subprocess.run(["docker", "compose", "-p", name, "down", "-v", "-t", "1"], capture_output=True)


@pytest.fixture(scope="module")
def server(running_job):
    """`nos2compose serve JOB --token` as a real process; yields (base URL, job id, token)."""
    name, path, _ = running_job
    token = uuid.uuid4().hex
    proc, base = serving(path, token)
    yield base, name, token
    proc.terminate()
    proc.wait(timeout=10)


def client(token):
    return httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60)


def wait_status(http, base, name, op, want, limit=30):
    deadline = time.monotonic() + limit
    while True:
        got = http.get(f"{base}/job/{name}/ops/{op}").json()
        if got == {op: want}:
            return
        assert time.monotonic() < deadline, f"{op} is {got}, wanted {want}"
        time.sleep(0.3)


def wait_for(probe, limit=60):
    deadline = time.monotonic() + limit
    while not probe():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.3)


def serving_again(http, base, name, path):
    """Group `serve` up again after the flow ended (the API refuses that, as a node does; the CLI does not)."""
    restarted = nos2compose("restart", path, "--group", "serve")
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    wait_for(lambda: http.get(f"{base}/job/{name}/endpoints").json()["status"] == "ONLINE")
    wait_status(http, base, name, "worker", "running")


def first_event(http, url) -> dict:
    """The first server-sent event's data, then the stream is closed."""
    with http.stream("GET", url) as reply:
        assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/event-stream")
        for line in reply.iter_lines():
            if line.startswith("data: "):
                return json.loads(line[len("data: ") :])
    raise AssertionError("no event")


def is_text(reply, status, body):
    return reply.status_code == status and reply.text == body and reply.headers["content-type"].startswith("text/plain")


def test_statuses_in_the_node_words(server, running_job):
    base, name, token = server
    web_port = running_job[2]
    with client(token) as http:
        ops = http.get(f"{base}/job/{name}/ops")
        assert ops.status_code == 200
        assert ops.json() == {"prepare": "finished", "web": "running", "worker": "running"}
        assert http.get(f"{base}/job/{name}/ops/web").json() == {"web": "running"}  # the node's object
        assert http.get(f"{base}/job/{name}/group/current").json() == {"web": "running", "worker": "running"}
        assert http.get(f"{base}/job/{name}/group/setup").json() == {"prepare": "finished"}
        # the node's lookups always answer an object: no 404 for an unknown op or group
        unknown_op = http.get(f"{base}/job/{name}/ops/nope")
        assert (unknown_op.status_code, unknown_op.json()) == (200, {"nope": None})
        unknown_group = http.get(f"{base}/job/{name}/group/nope")
        assert (unknown_group.status_code, unknown_group.json()) == (200, {})
        definition = http.get(f"{base}/job/{name}/job-definition").json()
        assert [op["id"] for op in definition["ops"]] == ["prepare", "web", "worker"]
        posted = http.post(f"{base}/job/{name}/job-definition", json=definition)
        assert is_text(posted, 400, "cannot send job definition at this time")  # a local job never waits for it

        results = http.get(f"{base}/job/{name}/results").json()
        assert results["status"] == "running" and results["endTime"] is None
        by_op = {o["operationId"]: o for o in results["opStates"]}
        prepare, web = by_op["prepare"], by_op["web"]
        assert (prepare["status"], prepare["exitCode"], prepare["group"]) == ("success", 0, "setup")
        assert prepare["startTime"] > 0 and len(prepare["providerId"]) == 64
        # Docker's own clock: a task this short can report its end a hair before its start
        assert abs(prepare["endTime"] - prepare["startTime"]) < 60_000
        # each entry as the node keeps it: a chunk of the stream, its newline included
        [entry] = prepare["logs"]
        assert (entry["type"], entry["log"]) == ("stdout", "prepared\n")
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$", entry["timestamp"])  # Docker's stamp
        assert (web["status"], web["endTime"], web["exitCode"]) == ("running", None, None)
        urls = results["secrets"][name]
        [(key, endpoint)] = urls.items()
        assert len(key) == 44 and results["secrets"]["urlmode"] == "public"
        assert endpoint == {"opID": "web", "port": web_port, "url": f"http://127.0.0.1:{web_port}", "status": "ONLINE"}
        assert http.get(endpoint["url"] + "/ok").status_code == 200  # the local URL answers
        assert http.get(f"{base}/job/{name}/endpoints").json() == {"urls": urls, "status": "ONLINE"}

        info = first_event(http, f"{base}/job/{name}/info")
        assert info["status"] == "running" and info["errors"] == [] and info["secrets"] == results["secrets"]
        assert all("logs" not in o and "providerId" not in o for o in info["opStates"])
        assert info["operations"] == {
            "all": {"prepare": "finished", "web": "running", "worker": "running"},
            "currentGroup": "serve",
            "currentGroupStatus": {"web": "running", "worker": "running"},
        }

        node = http.get(f"{base}/node/info").json()
        assert (node["node"], node["state"]) == ("127.0.0.1", "RUNNING_JOB")
        assert node["info"]["protocol"] in ("socket", "http", "https", "ssh") and "ip" not in node["info"]["network"]

        valid = http.post(f"{base}/node/validate", json=definition)
        assert (valid.status_code, valid.content) == (200, b"")
        definition["ops"][1]["args"]["expose"][0]["port"] = 70000
        invalid = http.post(f"{base}/node/validate", json=definition)
        assert invalid.status_code == 400
        assert invalid.json()["error"] == "Failed to validate job defintion."  # sic, the node's spelling
        [error] = invalid.json()["message"]
        assert error["path"] == "$input.ops[1].args.expose[0].port" and error["value"] == 70000


def test_unknown_job_and_missing_token(server):
    base, name, token = server
    with client(token) as http:
        assert is_text(http.get(f"{base}/job/somebody-else/ops"), 400, "invalid job id")  # plain text, as the node
        assert is_text(http.get(f"{base}/job/somebody-else/results"), 400, "invalid job id")
        assert is_text(http.post(f"{base}/job/somebody-else/group/serve/restart"), 400, "invalid job id")
        assert is_text(http.get(f"{base}/job/somebody-else/info"), 404, "Failed to find job for provided job id.")
        assert is_text(http.get(f"{base}/job/somebody-else/endpoints"), 400, "No exposed url for job id")
    assert httpx.get(f"{base}/job/{name}/ops").status_code == 401
    assert httpx.get(f"{base}/job/{name}/ops", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.get(f"{base}/").status_code == 401
    assert httpx.get(f"{base}/openapi.json").status_code == 401
    assert httpx.get(f"{base}/node/info").status_code == 401
    assert httpx.get(f"{base}/?token={token}").status_code == 200


def test_stop_and_restart_an_op_and_a_group(server, running_job):
    base, name, token = server
    _, path, _ = running_job
    job = f"{base}/job/{name}"
    with client(token) as http:
        stop = http.post(f"{job}/group/serve/operation/worker/stop")
        assert (stop.status_code, stop.json()) == (200, {"message": "Operation Stopped"})
        assert http.get(f"{job}/ops/worker").json() == {"worker": "stopped"}
        assert (
            json.loads(nos2compose("ps", path, "--json").stdout)["worker"]["status"] != "running"
        )  # visible in ps at once
        restart = http.post(f"{job}/group/serve/operation/worker/restart")
        assert (restart.status_code, restart.json()) == (200, {"message": "Operation restarted"})
        wait_status(http, base, name, "worker", "running")

        # outside the active group a restart is refused, with the node's 500 and its TaskManager's code
        refused = http.post(f"{job}/group/setup/operation/prepare/restart")
        assert (refused.status_code, refused.json()) == (
            500,
            {"error": "Failed to restart operation: GROUP_NOT_ACTIVE"},
        )
        unknown = http.post(f"{job}/group/nope/operation/web/restart")
        assert unknown.json() == {"error": "Failed to restart operation: GROUP_NOT_FOUND"}
        group_refused = http.post(f"{job}/group/setup/restart")
        assert (group_refused.status_code, group_refused.json()) == (
            500,
            {"error": "Failed to restart group operations"},
        )
        not_in_group = http.post(f"{job}/group/serve/operation/prepare/stop")
        assert (not_in_group.status_code, not_in_group.json()) == (
            500,
            {"error": "Failed to Stop operation: GROUP_NOT_FOUND"},
        )
        assert http.post(f"{job}/group/serve/move").json() == {"error": "Failed to restart group operations"}

        restarted = http.post(f"{job}/group/serve/restart")
        assert (restarted.status_code, restarted.json()) == (200, {"message": "Group Operation restarted"})
        wait_for(lambda: http.get(f"{job}/endpoints").json()["status"] == "ONLINE")

        # move: the active group's ops stop, setup's run again; once prepare has exited the flow is over
        moved = http.post(f"{job}/group/setup/move")
        assert (moved.status_code, moved.json()) == (200, {"message": "Group Operation restarted"})
        wait_for(lambda: http.get(f"{job}/group/current").json() == {})
        assert http.get(f"{job}/ops").json() == {"prepare": "finished", "web": "stopped", "worker": "stopped"}
        over = http.get(f"{job}/results").json()
        assert over["status"] == "success" and over["endTime"] is not None and over["secrets"] == {}
        assert is_text(http.get(f"{job}/endpoints"), 400, "No exposed url for job id")
        assert first_event(http, f"{job}/info")["endTime"] is not None  # one frame, then the stream ends
        assert http.post(f"{job}/group/serve/restart").status_code == 500  # no group is active any more
        serving_again(http, base, name, path)

        stopped = http.post(f"{job}/group/serve/stop")
        assert (stopped.status_code, stopped.json()) == (200, {"message": "Group Operation Stopped"})
        assert http.get(f"{job}/group/serve").json() == {"web": "stopped", "worker": "stopped"}
        serving_again(http, base, name, path)

        # the job's stop makes it expire, as on the node: its ops end `success` in the flow state
        ended = http.post(f"{job}/stop")
        assert is_text(ended, 200, "job stopped successfully")
        by_op = {o["operationId"]: o for o in http.get(f"{job}/results").json()["opStates"]}
        assert by_op["worker"]["status"] == "success" and by_op["worker"]["diagnostics"]["reason"]["jobExpired"]
        assert by_op["prepare"]["diagnostics"]["reason"]["jobExpired"] is False
        assert http.get(f"{base}/node/info").json()["state"] == "OTHER"
        serving_again(http, base, name, path)


def _chrome():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (browser and driver):
        if IN_CI:
            pytest.fail("chromium and chromedriver are required in CI (.ci/run installs them)")
        pytest.skip("chromium or chromedriver is not installed (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1300,700",
        f"--user-data-dir={os.environ.get('TMPDIR', '/tmp')}/n2c-chrome-{uuid.uuid4().hex}",
    ]:
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(driver), options=options)


@pytest.mark.browser
def test_status_page_in_a_real_browser(server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, name, token = server
    browser = _chrome()
    try:
        browser.get(f"{base}/?token={token}")
        rows = WebDriverWait(browser, 20).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#ops tr[data-op]"))
        assert [r.get_attribute("data-op") for r in rows] == ["prepare", "web", "worker"]
        assert browser.find_element(By.ID, "job").text == name
        web = browser.find_element(By.CSS_SELECTOR, 'tr[data-op="web"]')
        assert "healthy" in web.text and "http://127.0.0.1:" in web.text
        # the node's rules on the buttons: `prepare` (group setup, ended) cannot be restarted, nor stopped
        for action in ("restart", "stop"):
            button = browser.find_element(By.CSS_SELECTOR, f'tr[data-op="prepare"] button[data-action="{action}"]')
            assert not button.is_enabled(), action
        assert browser.find_element(By.CSS_SELECTOR, 'tr[data-op="worker"] button[data-action="restart"]').is_enabled()
        browser.find_element(By.CSS_SELECTOR, 'tr[data-op="worker"] button[data-action="stop"]').click()
        from selenium.common.exceptions import StaleElementReferenceException

        # the page redraws its rows: look the row up afresh each time; a stop asked for reads `stopped`
        WebDriverWait(browser, 30, ignored_exceptions=[StaleElementReferenceException]).until(
            lambda b: "stopped" in b.find_element(By.CSS_SELECTOR, 'tr[data-op="worker"]').text
        )
        with client(token) as http:
            assert http.get(f"{base}/job/{name}/ops/worker").json() == {"worker": "stopped"}
            http.post(f"{base}/job/{name}/group/serve/operation/worker/restart")
    finally:
        browser.quit()


def test_up_api_serves_while_up_runs_in_the_foreground(engine, tmp_path):
    import signal

    name = f"n2c-upapi-{uuid.uuid4().hex[:8]}"
    path = tmp_path / f"{name}.json"
    path.write_text(
        json.dumps(
            {
                "version": "0.1",
                "type": "container",
                "ops": [
                    {
                        "type": "container/run",
                        "id": "worker",
                        "args": {"image": IMAGE, "cmd": "trap 'exit 0' TERM; while true; do sleep 1; done"},
                    }
                ],
            }
        )
    )
    port = free_port()
    proc = subprocess.Popen(
        CLI + ["up", str(path), "--pull", "never", "--api", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                got = httpx.get(f"http://127.0.0.1:{port}/job/{name}/ops", timeout=2)
                if got.status_code == 200 and got.json() == {"worker": "running"}:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.3)
        # up --api samples the ops' resource usage as serve does
        while not httpx.get(f"http://127.0.0.1:{port}/job/{name}/stats", timeout=5).json():
            assert time.monotonic() < deadline, "no stats sample from up --api"
            time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
        subprocess.run(["docker", "compose", "-p", name, "down", "-t", "1"], capture_output=True)


def test_a_stop_through_the_api_reads_stopped_and_up_exits_0(engine, tmp_path):
    """POST /job/<id>/stop while `up --api` runs in the foreground: the op reads `stopped` in up's own lines
    and in ps, and up ends with 0, since nothing failed."""
    name = f"n2c-apistop-{uuid.uuid4().hex[:8]}"
    path = tmp_path / f"{name}.json"
    op = {"type": "container/run", "id": "worker", "args": {"image": IMAGE, "cmd": "while true; do sleep 1; done"}}
    path.write_text(json.dumps({"version": "0.1", "type": "container", "ops": [op]}))
    port = free_port()
    log = tmp_path / "up.log"
    with log.open("w") as out:
        proc = subprocess.Popen(CLI + ["up", str(path), "--pull", "never", "--api", str(port)], stdout=out, stderr=out)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/job/{name}/ops", timeout=2).json() == {"worker": "running"}:
                        break
                except (httpx.TransportError, ValueError):
                    pass
                assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
                time.sleep(0.3)
            stopped = httpx.post(f"http://127.0.0.1:{port}/job/{name}/stop", timeout=60)
            assert stopped.status_code == 200, stopped.text
            assert proc.wait(timeout=60) == 0, log.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
    try:
        said = log.read_text()
        assert "worker  worker: stopped" in said and "failed" not in said, said
        ps = subprocess.run(CLI + ["ps", str(path), "--json"], capture_output=True, text=True, timeout=60)
        assert json.loads(ps.stdout)["worker"]["status"] == "stopped", ps.stdout
    finally:
        subprocess.run(["docker", "compose", "-p", name, "down", "-t", "1"], capture_output=True)


def test_foreign_origins_and_hosts_are_refused_and_secrets_masked(server, running_job):
    base, name, token = server
    auth = {"Authorization": f"Bearer {token}"}
    evil = httpx.post(f"{base}/job/{name}/stop", headers={**auth, "Origin": "http://evil.example"})
    assert evil.status_code == 403
    rebound = httpx.get(f"{base}/job/{name}/ops", headers={**auth, "Host": "evil.example"})
    assert rebound.status_code == 403
    assert httpx.get(f"{base}/job/{name}/ops", headers={**auth, "Origin": base}).status_code == 200


def test_job_definition_never_shows_credentials():
    from nos2compose.api.masking import masked as _masked

    job = {
        "ops": [
            {
                "args": {
                    "authentication": {"docker": {"username": "u", "password": "p4ss"}},
                    "resources": [
                        {"type": "HF", "repo": "r", "target": "/t", "accessToken": "tok"},
                        {
                            "type": "S3",
                            "target": "/s",
                            "IAM": {"REGION": "eu", "ACCESS_KEY_ID": "AK", "SECRET_ACCESS_KEY": "SK"},
                        },
                    ],
                }
            }
        ]
    }
    text = json.dumps(_masked(job))
    assert not any(secret in text for secret in ("p4ss", "tok", "AK", "SK"))
    assert '"username": "u"' in text and '"REGION": "eu"' in text


@pytest.mark.browser
def test_status_page_live_usage_logs_and_a_terminal_in_a_real_browser(server):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, name, token = server
    with client(token) as http:  # the worker may have been stopped by another test: run it again
        http.post(f"{base}/job/{name}/group/serve/operation/worker/restart")
        wait_status(http, base, name, "worker", "running")
    browser = _chrome()
    try:
        browser.get(f"{base}/?token={token}")
        wait = WebDriverWait(browser, 30, ignored_exceptions=[StaleElementReferenceException])
        row = 'tr[data-op="worker"]'
        # CPU and memory from the stats stream, the log from the WebSocket's /flog, both live
        wait.until(lambda b: b.find_element(By.CSS_SELECTOR, f"{row} .cpu").text.endswith("%"))
        # the engine's first sample of a container that just started may read 0 B: wait for a real one
        wait.until(lambda b: "iB" in b.find_element(By.CSS_SELECTOR, f"{row} .memory").text)
        wait.until(lambda b: "working" in b.find_element(By.CSS_SELECTOR, f"{row} pre").text)
        browser.find_element(By.CSS_SELECTOR, f'{row} button[data-action="terminal"]').click()
        wait.until(lambda b: b.find_element(By.ID, "terminal-status").text == "connected")
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#terminal .xterm-rows"))
        keys = browser.find_element(By.CSS_SELECTOR, "#terminal .xterm-helper-textarea")
        keys.send_keys("echo n2c-$((6*7))\n")
        wait.until(lambda b: "n2c-42" in b.find_element(By.CSS_SELECTOR, "#terminal .xterm-rows").text)
        keys.send_keys("exit 7\n")
        wait.until(lambda b: b.find_element(By.ID, "terminal-status").text == "exited (7)")
    finally:
        browser.quit()


def test_after_down_serve_answers_as_the_node_does_for_a_job_it_does_not_run(engine, tmp_path):
    """A job the engine no longer has is not a job that waits: `invalid job id`, not `pending` for every op."""
    name = f"n2c-gone-{uuid.uuid4().hex[:8]}"
    path = tmp_path / f"{name}.json"
    op = {"type": "container/run", "id": "worker", "args": {"image": IMAGE, "cmd": "while true; do sleep 1; done"}}
    path.write_text(json.dumps({"version": "0.1", "type": "container", "ops": [op]}))
    assert subprocess.run(CLI + ["up", str(path), "-d", "--pull", "never"], capture_output=True).returncode == 0
    port = free_port()
    proc = subprocess.Popen(
        CLI + ["serve", str(path), "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        url = f"http://127.0.0.1:{port}/job/{name}/ops"
        deadline = time.monotonic() + 30
        while True:
            try:
                first = httpx.get(url, timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.3)
        assert first.status_code == 200 and first.json() == {"worker": "running"}
        assert subprocess.run(CLI + ["down", str(path), "-t", "0"], capture_output=True).returncode == 0
        gone = httpx.get(url, timeout=5)
        assert (gone.status_code, gone.text) == (400, "invalid job id")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        subprocess.run(["docker", "compose", "-p", name, "down", "-t", "0"], capture_output=True)
