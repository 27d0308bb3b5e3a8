"""`nos2compose serve` against a real running job on the engine, with a real HTTP client and a real
headless browser (Debian's chromium, driven by Selenium through Debian's chromedriver)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import uuid

import httpx
import pytest
from helpers import CLI, IN_CI, nos2compose

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
    yield name, str(path)
    subprocess.run(["docker", "compose", "-p", name, "down", "-v", "-t", "1"], capture_output=True)


@pytest.fixture(scope="module")
def server(running_job):
    """`nos2compose serve JOB --token` as a real process; yields (base URL, job id, token)."""
    name, path = running_job
    port, token = free_port(), uuid.uuid4().hex
    proc = subprocess.Popen(
        CLI + ["serve", path, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "NOS2COMPOSE_API_TOKEN": token},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(base + "/openapi.json", timeout=1, headers={"Authorization": f"Bearer {token}"})
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline and proc.poll() is None, (
                proc.stdout.read().decode() if proc.poll() is not None else "timeout"
            )
            time.sleep(0.2)
    yield base, name, token
    proc.terminate()
    proc.wait(timeout=10)


def client(token):
    return httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60)


def wait_status(http, base, name, op, want, limit=30):
    deadline = time.monotonic() + limit
    while True:
        got = http.get(f"{base}/job/{name}/ops/{op}").json()
        if got == want:
            return
        assert time.monotonic() < deadline, f"{op} is {got}, wanted {want}"
        time.sleep(0.3)


def test_statuses_in_the_node_words(server):
    base, name, token = server
    with client(token) as http:
        ops = http.get(f"{base}/job/{name}/ops")
        assert ops.status_code == 200
        assert ops.json() == {"prepare": "finished", "web": "running", "worker": "running"}
        assert http.get(f"{base}/job/{name}/ops/web").json() == "running"
        assert http.get(f"{base}/job/{name}/group/current").json() == {"web": "running", "worker": "running"}
        assert http.get(f"{base}/job/{name}/group/setup").json() == {"prepare": "finished"}
        assert http.get(f"{base}/job/{name}/ops/nope").status_code == 404
        assert http.get(f"{base}/job/{name}/group/nope").status_code == 404
        definition = http.get(f"{base}/job/{name}/job-definition").json()
        assert [op["id"] for op in definition["ops"]] == ["prepare", "web", "worker"]
        results = http.get(f"{base}/job/{name}/results").json()
        by_op = {o["operationId"]: o for o in results["opStates"]}
        assert by_op["prepare"]["exitCode"] == 0 and by_op["prepare"]["startTime"] > 0
        # Docker's own clock: a task this short can report its end a hair before its start
        assert abs(by_op["prepare"]["endTime"] - by_op["prepare"]["startTime"]) < 60_000
        assert results["status"] == "running" and results["endTime"] is None


def test_unknown_job_and_missing_token(server):
    base, name, token = server
    with client(token) as http:
        unknown = http.get(f"{base}/job/somebody-else/ops")
        assert unknown.status_code == 400 and unknown.json() == {"error": "invalid job id"}
    assert httpx.get(f"{base}/job/{name}/ops").status_code == 401
    assert httpx.get(f"{base}/job/{name}/ops", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.get(f"{base}/").status_code == 401
    assert httpx.get(f"{base}/openapi.json").status_code == 401
    assert httpx.get(f"{base}/?token={token}").status_code == 200


def test_stop_and_restart_an_op_and_a_group(server, running_job):
    base, name, token = server
    _, path = running_job
    with client(token) as http:
        stop = http.post(f"{base}/job/{name}/group/serve/operation/worker/stop")
        assert stop.status_code == 200 and stop.json() == {"message": "operation worker stopped"}
        assert http.get(f"{base}/job/{name}/ops/worker").json() == "stopped"
        assert (
            json.loads(nos2compose("ps", path, "--json").stdout)["worker"]["status"] != "running"
        )  # visible in ps at once
        restart = http.post(f"{base}/job/{name}/group/serve/operation/worker/restart")
        assert restart.status_code == 202
        wait_status(http, base, name, "worker", "running")
        # outside the active group a restart is refused, as on the node
        refused = http.post(f"{base}/job/{name}/group/setup/operation/prepare/restart")
        assert refused.status_code == 400 and "not the active group" in refused.json()["error"]
        assert http.post(f"{base}/job/{name}/group/setup/restart").status_code == 400
        assert (
            http.post(f"{base}/job/{name}/group/serve/operation/prepare/stop").status_code == 400
        )  # not in that group
        assert http.post(f"{base}/job/{name}/group/serve/stop").status_code == 200
        assert http.get(f"{base}/job/{name}/group/serve").json() == {"web": "stopped", "worker": "stopped"}
        assert http.post(f"{base}/job/{name}/group/serve/restart").status_code == 202
        wait_status(http, base, name, "web", "running")
        wait_status(http, base, name, "worker", "running")


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
        browser.find_element(By.CSS_SELECTOR, 'tr[data-op="worker"] button[data-action="stop"]').click()
        from selenium.common.exceptions import StaleElementReferenceException

        # the page redraws its rows: look the row up afresh each time; a stop asked for reads `stopped`
        WebDriverWait(browser, 30, ignored_exceptions=[StaleElementReferenceException]).until(
            lambda b: "stopped" in b.find_element(By.CSS_SELECTOR, 'tr[data-op="worker"]').text
        )
        with client(token) as http:
            assert http.get(f"{base}/job/{name}/ops/worker").json() == "stopped"
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
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
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
