"""The resource fetch script, run as the init container runs it, against fake S3 and HF servers.

The servers listen on 127.0.0.1 only and record every request, so the tests can check what the
script asked for (listing pages, signatures, bearer tokens) and that a cached run asks nothing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit
from xml.sax.saxutils import escape

import pytest
from helpers import ROOT

FETCH = ROOT / "nos2compose" / "scripts" / "fetch.py"

MARKER = ".nos2compose-complete"
S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
OBJECTS = {
    "llama/config.json": b'{"dim": 8}',
    "llama/weights/a.bin": b"A" * 1000,
    "llama/weights/b c+d.bin": b"BCD",
    "llama/weights/": b"",  # a "folder" marker, not a file
    "llama/tokenizer.model": b"tok",
    "other/readme.txt": b"other",
}
LLAMA = {
    "config.json": OBJECTS["llama/config.json"],
    "weights/a.bin": OBJECTS["llama/weights/a.bin"],
    "weights/b c+d.bin": OBJECTS["llama/weights/b c+d.bin"],
    "tokenizer.model": OBJECTS["llama/tokenizer.model"],
}


class Fake:
    """An HTTP server in a thread; `app(fake, path, query, headers)` returns (status, headers, body)."""

    def __init__(self, app):
        self.app, self.requests, self.failures = app, [], {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                parts = urlsplit(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.requests.append((self.path, headers))
                status, extra, body = fake.app(fake, unquote(parts.path), parse_qs(parts.query), headers)
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.host = f"127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def paths(self):
        return [p for p, _ in self.requests]


@pytest.fixture
def serve():
    started = []

    def start(app):
        started.append(Fake(app))
        return started[-1]

    yield start
    for fake in started:
        fake.httpd.shutdown()
        fake.httpd.server_close()


def xml_error(status, code):
    return status, {"Content-Type": "application/xml"}, f"<Error><Code>{code}</Code></Error>".encode()


def s3_app(objects, style="vhost", bucket="models"):
    """An S3-like app: ListObjectsV2 (2 keys a page) and GET of objects, virtual-host or path style."""

    def listing(query):
        prefix = query.get("prefix", [""])[0]
        token = query.get("continuation-token", ["tok/0+="])[0]
        start = int(re.fullmatch(r"tok/(\d+)\+=", token).group(1))
        keys = sorted(k for k in objects if k.startswith(prefix))
        page, more = keys[start : start + 2], start + 2 < len(keys)
        body = f'<?xml version="1.0"?><ListBucketResult xmlns="{S3_NS}"><Prefix>{escape(prefix)}</Prefix>'
        body += "".join(f"<Contents><Key>{escape(k)}</Key><Size>{len(objects[k])}</Size></Contents>" for k in page)
        body += f"<IsTruncated>{str(more).lower()}</IsTruncated>"
        if more:
            body += f"<NextContinuationToken>tok/{start + 2}+=</NextContinuationToken>"
        return 200, {"Content-Type": "application/xml"}, (body + "</ListBucketResult>").encode()

    def app(fake, path, query, headers):
        if style == "path":
            if path == "/":
                return xml_error(403, "AccessDenied")
            name, _, path = path[1:].partition("/")
            if name != bucket:
                return xml_error(404, "NoSuchBucket")
            path = "/" + path
        if path == "/" and query.get("list-type") == ["2"]:
            return listing(query)
        key = path[1:]
        if fake.failures.get(key, 0) > 0:
            fake.failures[key] -= 1
            return xml_error(503, "SlowDown")
        if key in objects:
            return 200, {"Content-Type": "application/octet-stream"}, objects[key]
        return xml_error(404, "NoSuchKey")

    return app


def run(kind, dest, spec, **env):
    """The fetcher as a fetch service runs it: `python3 /nos2compose/fetch.py KIND DEST SPEC`, in a clean environment."""
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("N2C_", "HF_")) and not k.lower().endswith("_proxy")
    }
    clean.update(env)
    cmd = [sys.executable, str(FETCH), kind, str(dest), spec if isinstance(spec, str) else json.dumps(spec)]
    return subprocess.run(cmd, capture_output=True, text=True, env=clean, timeout=30)


def tree(dest: Path) -> dict[str, bytes]:
    return {p.relative_to(dest).as_posix(): p.read_bytes() for p in dest.rglob("*") if p.is_file() and p.name != MARKER}


def list_requests(fake):
    return [p for p in fake.paths() if "list-type=2" in p]


def test_main_returns_the_exit_status_without_exiting(tmp_path, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("fetch", FETCH)
    fetch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fetch)  # importing runs nothing
    assert fetch.main(["fetch", "ftp", str(tmp_path), "{}"]) == 1
    assert "usage: fetch s3|hf DEST SPEC_JSON" in capsys.readouterr().err
    assert fetch.main(["fetch", "s3", str(tmp_path), "[1]"]) == 1
    assert "SPEC_JSON must be a JSON object" in capsys.readouterr().err


def test_s3_virtual_host_listing_pages_and_fetches_relative_to_prefix(serve, tmp_path):
    s3 = serve(s3_app(OBJECTS))
    r = run("s3", tmp_path / "cache", {"type": "S3", "url": f"{s3.url}/llama", "target": "/models"})
    assert r.returncode == 0, r.stderr
    assert tree(tmp_path / "cache") == LLAMA
    assert len(list_requests(s3)) == 3  # 5 keys under llama/, 2 a page
    assert "continuation-token=tok%2F2%2B%3D" in list_requests(s3)[1]
    assert "fetched weights/b c+d.bin (3 bytes)" in r.stdout.splitlines()
    assert r.stdout.splitlines()[-1].startswith("done: 4 files, 1016 bytes")
    assert (tmp_path / "cache" / MARKER).is_file()
    assert not list((tmp_path / "cache").rglob("*.n2c-part"))


def test_s3_path_style_url_falls_back_after_root_listing_fails(serve, tmp_path):
    s3 = serve(s3_app(OBJECTS, style="path"))
    r = run("s3", tmp_path, {"url": f"{s3.url}/models/llama/"})
    assert r.returncode == 0, r.stderr
    assert tree(tmp_path) == LLAMA
    assert s3.paths()[0].startswith("/?list-type=2&prefix=models%2Fllama%2F")
    assert s3.paths()[1].startswith("/models?list-type=2&prefix=llama%2F")


def test_s3_scheme_uses_the_endpoint_path_style(serve, tmp_path):
    s3 = serve(s3_app(OBJECTS, style="path"))
    r = run("s3", tmp_path, {"url": "s3://models/llama"}, N2C_S3_ENDPOINT=s3.url)
    assert r.returncode == 0, r.stderr
    assert tree(tmp_path) == LLAMA
    assert all(p.startswith("/models") for p in s3.paths())


def test_s3_files_are_fetched_without_listing(serve, tmp_path):
    s3 = serve(s3_app(OBJECTS, style="path"))
    spec = {"url": f"{s3.url}/models/llama", "files": ["config.json", "weights/b c+d.bin"]}
    r = run("s3", tmp_path, spec)
    assert r.returncode == 0, r.stderr
    assert tree(tmp_path) == {k: LLAMA[k] for k in spec["files"]}
    assert not list_requests(s3)
    assert "/models/llama/weights/b%20c%2Bd.bin" in s3.paths()


def test_s3_bucket_and_buckets_variants(serve, tmp_path):
    s3 = serve(s3_app(OBJECTS, style="path"))
    r = run("s3", tmp_path / "one", {"bucket": "models", "url": s3.url})
    assert r.returncode == 0, r.stderr
    assert tree(tmp_path / "one") == {k: v for k, v in OBJECTS.items() if not k.endswith("/")}

    spec = {"buckets": [{"url": f"{s3.url}/models/llama", "files": ["config.json"]}, {"url": "s3://models/other"}]}
    r = run("s3", tmp_path / "many", spec, N2C_S3_ENDPOINT=s3.url)
    assert r.returncode == 0, r.stderr
    assert tree(tmp_path / "many") == {"config.json": LLAMA["config.json"], "readme.txt": b"other"}


def test_s3_url_naming_a_single_object(serve, tmp_path):
    s3 = serve(s3_app(OBJECTS))
    r = run("s3", tmp_path, {"url": f"{s3.url}/llama/config.json"})
    assert r.returncode == 0, r.stderr
    assert tree(tmp_path) == {"config.json": LLAMA["config.json"]}


def botocore_signature(fake_host, path, headers, key_id, secret, region):
    """The signature botocore computes for the request the fake server received."""
    import botocore.auth as auth  # an independent SigV4 implementation (a test dependency)
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    signed = {h: headers[h] for h in ("host", "x-amz-content-sha256", "x-amz-date")}
    req = AWSRequest(method="GET", url=f"http://{fake_host}{path}", headers=signed)
    req.context["timestamp"] = headers["x-amz-date"]
    signer = auth.S3SigV4Auth(Credentials(key_id, secret), "s3", region)
    return signer.signature(signer.string_to_sign(req, signer.canonical_request(req)), req)


def test_s3_requests_are_signed_with_sigv4_and_the_secret_stays_hidden(serve, tmp_path):
    s3 = serve(s3_app(OBJECTS, style="path"))
    creds = {
        "N2C_S3_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "N2C_S3_SECRET_ACCESS_KEY": "s3cr3t/KEY+xyz",
        "N2C_S3_REGION": "eu-west-3",
        "N2C_S3_ENDPOINT": s3.url,
    }
    spec = {"buckets": [{"url": "s3://models/llama"}, {"url": "s3://models/missing.bin"}]}
    r = run("s3", tmp_path, spec, **creds)
    assert r.returncode == 1
    assert "no objects found" in r.stderr
    r = run("s3", tmp_path, {"url": "s3://models/llama"}, **creds)
    assert r.returncode == 0, r.stderr
    for out in (r.stdout, r.stderr):
        assert "s3cr3t" not in out and "AKIDEXAMPLE" not in out
    assert s3.requests
    for path, headers in s3.requests:
        assert re.match(
            r"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\d{8}/eu-west-3/s3/aws4_request, "
            r"SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$",
            headers["authorization"],
        )
        assert headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
        want = botocore_signature(s3.host, path, headers, "AKIDEXAMPLE", "s3cr3t/KEY+xyz", "eu-west-3")
        assert headers["authorization"].endswith("Signature=" + want), path


def test_s3_half_set_credentials_fail(tmp_path):
    r = run("s3", tmp_path, {"url": "s3://b/p"}, N2C_S3_SECRET_ACCESS_KEY="s3cr3t")
    assert r.returncode == 1 and "N2C_S3_ACCESS_KEY_ID" in r.stderr and "s3cr3t" not in r.stderr


def test_missing_object_fails_with_one_clear_line(serve, tmp_path):
    s3 = serve(s3_app(OBJECTS))
    r = run("s3", tmp_path, {"url": f"{s3.url}/llama", "files": ["config.json", "nope.bin"]})
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [f"fetch failed: HTTP 404 Not Found: GET {s3.url}/llama/nope.bin"]
    assert not (tmp_path / MARKER).exists()
    assert not list(tmp_path.rglob("*.n2c-part"))


def test_transient_errors_are_retried(serve, tmp_path):
    s3 = serve(s3_app(OBJECTS))
    s3.failures["llama/config.json"] = 1
    r = run("s3", tmp_path, {"url": f"{s3.url}/llama", "files": ["config.json"]})
    assert r.returncode == 0, r.stderr
    assert "retrying GET" in r.stderr and "HTTP 503" in r.stderr
    assert s3.paths().count("/llama/config.json") == 2


def test_unsafe_keys_are_refused(serve, tmp_path):
    s3 = serve(s3_app({"llama/../../escape.txt": b"x"}))
    r = run("s3", tmp_path / "cache", {"url": f"{s3.url}/llama"})
    assert r.returncode == 1 and "unsafe file path" in r.stderr
    assert not (tmp_path / "escape.txt").exists()


HF_FILES = {"config.json": b"{}", "model.safetensors": b"W" * 300, "split/vae/v.safetensors": b"vae"}


def hf_app(cdn_url, redirected=("model.safetensors",)):
    """An HF-like app: the models API and the resolve route; some files redirect to a CDN."""

    def app(fake, path, query, headers):
        m = re.fullmatch(r"/api/models/(org/model)/revision/(.+)", path)
        if m:
            siblings = [{"rfilename": f} for f in HF_FILES]
            return 200, {"Content-Type": "application/json"}, json.dumps({"siblings": siblings}).encode()
        m = re.fullmatch(r"/org/model/resolve/(main|refs/pr/\d+)/(.+)", path)
        if m and m.group(2) in HF_FILES:
            if m.group(2) in redirected:
                return 302, {"Location": f"{cdn_url}/blob/{quote(m.group(2))}?sig=abc"}, b""
            return 200, {}, HF_FILES[m.group(2)]
        return 404, {}, b"Repository not found"

    return app


def cdn_app(fake, path, query, headers):
    name = path.removeprefix("/blob/")
    return (200, {}, HF_FILES[name]) if name in HF_FILES else (404, {}, b"")


def test_hf_lists_sends_token_redirects_without_it_and_caches(serve, tmp_path):
    cdn = serve(cdn_app)
    hf = serve(hf_app(cdn.url))
    env = {"HF_ENDPOINT": hf.url, "N2C_HF_TOKEN": "hf_SECRETTOKEN"}
    spec = {"type": "HF", "repo": "org/model", "target": "/models"}
    r = run("hf", tmp_path, spec, **env)
    assert r.returncode == 0, r.stderr
    assert tree(tmp_path) == HF_FILES
    assert hf.paths()[0] == "/api/models/org/model/revision/main"
    assert all(h.get("authorization") == "Bearer hf_SECRETTOKEN" for _, h in hf.requests)
    assert cdn.paths() == ["/blob/model.safetensors?sig=abc"]
    assert "authorization" not in cdn.requests[0][1]
    assert "hf_SECRETTOKEN" not in r.stdout + r.stderr

    seen = len(hf.requests)
    r = run("hf", tmp_path, spec, **env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "cached: nothing to fetch"
    assert len(hf.requests) == seen and len(cdn.requests) == 1

    r = run("hf", tmp_path, {**spec, "target": "/elsewhere"}, **env)  # same content: still cached
    assert r.stdout.strip() == "cached: nothing to fetch"


def test_hf_files_and_revision_without_token(serve, tmp_path):
    hf = serve(hf_app("http://127.0.0.1:9", redirected=()))
    spec = {"repo": "org/model", "revision": "refs/pr/1", "files": ["split/vae/v.safetensors"]}
    r = run("hf", tmp_path, spec, HF_ENDPOINT=hf.url)
    assert r.returncode == 0, r.stderr
    assert tree(tmp_path) == {"split/vae/v.safetensors": b"vae"}
    assert hf.paths() == ["/org/model/resolve/refs%2Fpr%2F1/split/vae/v.safetensors"]
    assert "authorization" not in hf.requests[0][1]
    assert "fetched split/vae/v.safetensors (3 bytes)" in r.stdout

    r = run("hf", tmp_path, {**spec, "files": ["config.json"]}, HF_ENDPOINT=hf.url)  # spec changed
    assert r.returncode == 0 and "fetched config.json (2 bytes)" in r.stdout
    assert len(hf.requests) == 2


def test_the_spec_as_convert_writes_it_over_several_lines_is_the_same_spec(serve, tmp_path):
    """convert writes SPEC_JSON indented, a field a line (so no line of a file passes 200 characters): the
    fetcher reads it as the same spec, and what it fetched is the cache of the one-line form too."""
    from nos2compose.compose.documents import spec_argument

    hf = serve(hf_app("http://127.0.0.1:9", redirected=()))
    spec = {"files": ["split/vae/v.safetensors"], "repo": "org/model", "revision": "refs/pr/1", "type": "HF"}
    folded = spec_argument(json.dumps(spec, sort_keys=True))
    assert folded.count("\n") >= 5 and json.loads(folded) == spec
    r = run("hf", tmp_path, folded, HF_ENDPOINT=hf.url)
    assert r.returncode == 0, r.stderr
    assert tree(tmp_path) == {"split/vae/v.safetensors": b"vae"}
    r = run("hf", tmp_path, spec, HF_ENDPOINT=hf.url)
    assert r.returncode == 0 and r.stdout.strip() == "cached: nothing to fetch"
    assert len(hf.requests) == 1


def test_hf_unknown_repo_fails(serve, tmp_path):
    hf = serve(hf_app("http://127.0.0.1:9"))
    r = run("hf", tmp_path, {"repo": "org/nope"}, HF_ENDPOINT=hf.url, N2C_HF_TOKEN="hf_SECRETTOKEN")
    assert r.returncode == 1
    assert r.stderr.strip() == f"fetch failed: HTTP 404 Not Found: GET {hf.url}/api/models/org/nope/revision/main"
    assert "hf_SECRETTOKEN" not in r.stdout + r.stderr
