"""Resources on a real engine: an S3 prefix fetched from a file server that runs as an op on the job's own
network (so nothing leaves the machine), into a shared cache volume that a second run reuses and `down -v` keeps."""

from __future__ import annotations

import json
import uuid

import pytest
from helpers import docker, nos2compose

pytestmark = pytest.mark.e2e

# A tiny S3-compatible server: ListObjectsV2 over /srv, and GET of each object.
S3_SERVER = r"""
import http.server, os, urllib.parse
root = "/srv"
os.makedirs(root + "/models/tiny/sub", exist_ok=True)
open(root + "/models/tiny/a.txt", "w").write("alpha")
open(root + "/models/tiny/sub/b.txt", "w").write("beta")
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path == "/health":
            body = b"ok"
        elif "list-type" in query:
            prefix = query.get("prefix", [""])[0]
            keys = sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)
            items = "".join("<Contents><Key>%s</Key></Contents>" % k for k in keys if k.startswith(prefix))
            body = ("<ListBucketResult><IsTruncated>false</IsTruncated>%s</ListBucketResult>" % items).encode()
        else:
            path = os.path.join(root, url.path.lstrip("/"))
            if not os.path.isfile(path):
                self.send_response(404); self.end_headers(); return
            body = open(path, "rb").read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.ThreadingHTTPServer(("0.0.0.0", 18500), Handler).serve_forever()
"""


@pytest.fixture
def job(engine, tmp_path):
    name = f"n2c-res-{uuid.uuid4().hex[:8]}"
    path = tmp_path / f"{name}.json"
    path.write_text(
        json.dumps(
            {
                "version": "0.1",
                "type": "container",
                "ops": [
                    {
                        "type": "container/run",
                        "id": "files",
                        "execution": {"group": "storage"},
                        "args": {
                            "image": "nos2compose-test/python:1",
                            "cmd": ["python3", "-c", S3_SERVER],
                            "expose": [
                                {
                                    "port": 18500,
                                    "health_checks": [
                                        {
                                            "type": "http",
                                            "path": "/health",
                                            "method": "GET",
                                            "expected_status": 200,
                                            "continuous": False,
                                        }
                                    ],
                                }
                            ],
                        },
                    },
                    {
                        "type": "container/run",
                        "id": "reader",
                        "execution": {"group": "work"},
                        "args": {
                            "image": "nos2compose-test/busybox:1",
                            "cmd": "cat /models/a.txt /models/sub/b.txt; echo",
                            "resources": [{"type": "S3", "url": "http://files:18500/models/tiny", "target": "/models"}],
                        },
                    },
                ],
            }
        )
    )
    yield name, str(path)
    docker("compose", "-p", name, "down", "-v", "-t", "1")


def cache_volumes():
    return set(docker("volume", "ls", "-q", "--filter", "label=io.nosana.cache=1").stdout.split())


def test_s3_resource_is_fetched_once_and_cached(job):
    name, path = job
    up_args = ["up", path, "-d", "--pull", "never", "--fetch-image", "nos2compose-test/python:1"]
    before = cache_volumes()
    first = nos2compose(*up_args)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "reader | alphabeta" in nos2compose("logs", path, "reader").stdout
    fetch_log = docker("logs", f"{name}-reader-fetch-1-1").stdout
    assert "fetched a.txt" in fetch_log and "fetched sub/b.txt" in fetch_log
    (cache,) = cache_volumes() - before
    # a second run fetches nothing; down -v keeps the shared cache
    assert nos2compose("down", path, "-v").returncode == 0
    assert cache in cache_volumes()
    second = nos2compose(*up_args)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "cached: nothing to fetch" in docker("logs", f"{name}-reader-fetch-1-1").stdout
    assert nos2compose("down", path, "-v").returncode == 0
    cleared = nos2compose("cache", "clear")
    assert cleared.returncode == 0, cleared.stderr
    assert cache not in cache_volumes()


def test_resource_dir_mounts_local_files_instead(job, tmp_path):
    name, path = job
    local = tmp_path / "mine"
    (local / "sub").mkdir(parents=True)
    (local / "a.txt").write_text("local-")
    (local / "sub" / "b.txt").write_text("files")
    up = nos2compose("up", path, "-d", "--pull", "never", "--resource-dir", f"/models={local}")
    assert up.returncode == 0, up.stdout + up.stderr
    assert "reader | local-files" in nos2compose("logs", path, "reader").stdout
    assert f"{name}-reader-fetch-1-1" not in docker("ps", "-a", "--format", "{{.Names}}").stdout


def test_credentials_never_reach_a_file_or_the_output(tmp_path):
    from helpers import run_cli

    job = {
        "version": "0.1",
        "type": "container",
        "ops": [
            {
                "type": "container/run",
                "id": "a",
                "args": {
                    "image": "x",
                    "resources": [
                        {
                            "type": "S3",
                            "url": "s3://bucket/prefix",
                            "target": "/data",
                            "IAM": {
                                "REGION": "eu-west-1",
                                "ACCESS_KEY_ID": "AKIDSECRETID",
                                "SECRET_ACCESS_KEY": "SECRETKEYVALUE",
                            },
                        },
                        {"type": "HF", "repo": "org/model", "target": "/hf", "accessToken": "hf_TOKENVALUE"},
                    ],
                },
            }
        ],
    }
    (tmp_path / "j.json").write_text(json.dumps(job))
    single = run_cli("convert", "j.json", cwd=tmp_path)
    grouped = run_cli("convert", "j.json", "-o", "out", cwd=tmp_path)
    text = single.stdout + single.stderr + grouped.stderr + "".join(p.read_text() for p in (tmp_path / "out").iterdir())
    for secret in ("AKIDSECRETID", "SECRETKEYVALUE", "hf_TOKENVALUE"):
        assert secret not in text
    assert "${N2C_SECRET_A_1_S3_SECRET_ACCESS_KEY?set by nos2compose up}" in single.stdout
    assert "${N2C_SECRET_A_2_HF_TOKEN?set by nos2compose up}" in single.stdout
