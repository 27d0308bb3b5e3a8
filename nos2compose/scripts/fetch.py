"""The script an init container runs to download one Nosana resource into a cache volume.

A Nosana node fetches an op's `resources` (S3 prefixes, Hugging Face repos) before the op
starts. Locally an init container does it by running

    python3 /nos2compose/fetch.py KIND DEST SPEC_JSON

with KIND `s3` or `hf`, DEST the directory to fill (created), and SPEC_JSON the resource
object from the job with its secrets removed (convert writes it indented, a field a line).
Secrets arrive only as environment variables:
N2C_S3_ACCESS_KEY_ID, N2C_S3_SECRET_ACCESS_KEY, N2C_S3_REGION (S3 `IAM`; requests are then
signed with AWS Signature V4) and N2C_HF_TOKEN (HF `accessToken`, sent as a bearer token).
N2C_S3_ENDPOINT (default https://s3.<region>.amazonaws.com) serves `s3://` urls and the
`bucket` variant; HF_ENDPOINT (default https://huggingface.co) serves HF repos.

DEST is a cache: `DEST/.nos2compose-complete` holds a hash of KIND and SPEC_JSON (without
`IAM`, `accessToken`, `target`, `allowWrite`), written only once every file is in place, so a
second run with the same spec fetches nothing. Files are written to a temporary name and
renamed. The script prints `fetched <path> (<n> bytes)` per file and a summary; on failure it
prints one line to stderr, never a secret, and exits 1.

It uses the standard library only (Python >= 3.8): the fetch image needs nothing but python3.
Group files mount it from nos2compose-fetch.py beside them (top-level `configs:`); the single file
carries it inline, once.
"""

import datetime
import hashlib
import hmac
import http.client
import json
import os
import shutil
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

MARKER = ".nos2compose-complete"
TIMEOUT = 60
RETRIES = 3
UNSIGNED = "UNSIGNED-PAYLOAD"
NOT_CONTENT = ("IAM", "accessToken", "target", "allowWrite")


class Fail(Exception):
    def __init__(self, msg, code=0):
        Exception.__init__(self, msg)
        self.code = code


class KeepAuthOnSameHost(urllib.request.HTTPRedirectHandler):
    # a redirect to another host (HF -> CDN with a presigned url) must not carry our token
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = urllib.request.HTTPRedirectHandler.redirect_request(self, req, fp, code, msg, headers, newurl)
        if new is not None and urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc:
            new.headers.pop("Authorization", None)
        return new


OPENER = urllib.request.build_opener(KeepAuthOnSameHost)


def enc(s, safe="/"):
    return urllib.parse.quote(s, safe=safe)


def open_url(url, auth):
    headers = {"User-Agent": "nos2compose-fetch/1"}
    headers.update(auth(url) if auth else {})
    return OPENER.open(urllib.request.Request(url, headers=headers), timeout=TIMEOUT)


def with_retries(url, action):
    # retries connection errors, timeouts, 5xx and 429; any other HTTP status fails at once
    for attempt in range(1, RETRIES + 1):
        try:
            return action()
        except urllib.error.HTTPError as e:
            e.close()
            if (e.code < 500 and e.code != 429) or attempt == RETRIES:
                raise Fail("HTTP %d %s: GET %s" % (e.code, e.reason, url), e.code) from None
            why = "HTTP %d" % e.code
        except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
            why = str(getattr(e, "reason", None) or e) or type(e).__name__
            if attempt == RETRIES:
                raise Fail("GET %s failed: %s" % (url, why)) from None
        print("retrying GET %s after %s" % (url, why), file=sys.stderr, flush=True)
        time.sleep(attempt)


def get_bytes(url, auth):
    def action():
        with open_url(url, auth) as r:
            return r.read()

    return with_retries(url, action)


class Sink:
    def __init__(self, dest):
        self.dest, self.files, self.bytes = dest, 0, 0

    def path_for(self, rel):
        parts = [p for p in rel.replace("\\", "/").split("/") if p not in ("", ".")]
        if not parts or ".." in parts or parts == [MARKER]:
            raise Fail("refusing unsafe file path %r" % rel)
        return self.dest.joinpath(*parts)

    def download(self, url, rel, auth):
        path = self.path_for(rel)
        tmp = path.with_name(path.name + ".n2c-part")

        def action():
            path.parent.mkdir(parents=True, exist_ok=True)
            with open_url(url, auth) as r, open(tmp, "wb") as f:
                shutil.copyfileobj(r, f, 1 << 20)
                want = r.headers.get("Content-Length")
            size = tmp.stat().st_size
            if want is not None and want.isdigit() and int(want) != size:
                raise OSError("incomplete body: %d of %s bytes" % (size, want))
            return size

        try:
            size = with_retries(url, action)
        except BaseException:
            if tmp.exists():
                tmp.unlink()
            raise
        os.replace(str(tmp), str(path))
        self.files, self.bytes = self.files + 1, self.bytes + size
        print("fetched %s (%d bytes)" % (rel, size), flush=True)


# ---- S3 ----


def s3_signer(region):
    kid = os.environ.get("N2C_S3_ACCESS_KEY_ID") or ""
    secret = os.environ.get("N2C_S3_SECRET_ACCESS_KEY") or ""
    if not kid and not secret:
        return None
    if not (kid and secret):
        raise Fail("set both N2C_S3_ACCESS_KEY_ID and N2C_S3_SECRET_ACCESS_KEY, or neither")

    def sign(url):  # AWS Signature V4, header form
        p = urllib.parse.urlsplit(url)
        amz = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        pairs = sorted((enc(k, ""), enc(v, "")) for k, v in urllib.parse.parse_qsl(p.query, keep_blank_values=True))
        hdrs = {"host": p.netloc, "x-amz-content-sha256": UNSIGNED, "x-amz-date": amz}
        names = ";".join(sorted(hdrs))
        canonical = "\n".join(
            [
                "GET",
                p.path or "/",
                "&".join(k + "=" + v for k, v in pairs),
                "".join(k + ":" + hdrs[k] + "\n" for k in sorted(hdrs)),
                names,
                UNSIGNED,
            ]
        )
        scope = "/".join([amz[:8], region, "s3", "aws4_request"])
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + secret).encode()
        for part in (amz[:8], region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        auth = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (kid, scope, names, sig)
        return {"x-amz-content-sha256": UNSIGNED, "x-amz-date": amz, "Authorization": auth}

    return sign


def local(tag):
    return tag.rsplit("}", 1)[-1]


def s3_list(base, prefix, auth, root=False):
    # ListObjectsV2 of base (a bucket url), all pages; returns the keys under prefix
    keys, token = [], None
    while True:
        params = [("list-type", "2"), ("prefix", prefix)] + ([("continuation-token", token)] if token else [])
        url = base + ("/" if root else "") + "?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote, safe="")
        body = get_bytes(url, auth)
        try:
            doc = ET.fromstring(body)
        except ET.ParseError:
            doc = None
        if doc is None or local(doc.tag) != "ListBucketResult":
            raise Fail("not an S3 object listing: GET %s" % url, 400)
        fields = {}
        for el in doc:
            if local(el.tag) == "Contents":
                keys += [k.text or "" for k in el if local(k.tag) == "Key"]
            else:
                fields[local(el.tag)] = (el.text or "").strip()
        if fields.get("IsTruncated", "false").lower() != "true":
            return keys
        token = fields.get("NextContinuationToken")
        if not token:
            raise Fail("truncated S3 listing without a continuation token: GET %s" % url)


def s3_prefix(sink, base, prefix, files, auth, root=False):
    # fetch files (or every object) under base/prefix into the sink, relative to prefix
    prefix = prefix.strip("/")
    head = prefix + "/" if prefix else ""
    if files is not None:
        for f in files:
            sink.download(base + "/" + enc(head + f.lstrip("/")), f, auth)
        return
    keys = [k for k in s3_list(base, head, auth, root) if k.startswith(head) and not k.endswith("/")]
    if not keys and prefix:  # the url may name a single object
        try:
            return sink.download(base + "/" + enc(prefix), prefix.rsplit("/", 1)[-1], auth)
        except Fail as e:
            if e.code != 404:
                raise
    if not keys:
        raise Fail("no objects found under %s/%s" % (base, head))
    for k in keys:
        sink.download(base + "/" + enc(k), k[len(head) :], auth)


def s3_url(sink, url, files, endpoint, auth):
    p = urllib.parse.urlsplit(url)
    path = urllib.parse.unquote(p.path).strip("/")
    if p.scheme == "s3":
        return s3_prefix(sink, endpoint + "/" + enc(p.netloc), path, files, auth)
    if p.scheme not in ("http", "https") or not p.netloc:
        raise Fail("unsupported S3 url (want s3://bucket/prefix or https://host/prefix): %s" % url)
    host = p.scheme + "://" + p.netloc
    if files is not None:  # works for virtual-host and path-style alike
        return s3_prefix(sink, host, path, files, auth)
    try:  # virtual-host style: the host is the bucket
        return s3_prefix(sink, host, path, None, auth, root=True)
    except Fail as e:
        bucket, _, rest = path.partition("/")
        if not (400 <= e.code < 500) or not bucket or sink.files:
            raise
    return s3_prefix(sink, host + "/" + enc(bucket), rest, None, auth)  # path style


def fetch_s3(sink, spec):
    region = os.environ.get("N2C_S3_REGION") or "us-east-1"
    auth = s3_signer(region)
    endpoint = (os.environ.get("N2C_S3_ENDPOINT") or "https://s3.%s.amazonaws.com" % region).rstrip("/")
    url = spec.get("url")
    if url and urllib.parse.urlsplit(url).scheme in ("http", "https") and ("bucket" in spec or "buckets" in spec):
        endpoint = url.rstrip("/")  # beside bucket(s), url names the endpoint
    if "buckets" in spec:
        for b in spec["buckets"]:
            s3_url(sink, b["url"], b.get("files"), endpoint, auth)
    elif "bucket" in spec:
        bucket, _, prefix = spec["bucket"].strip("/").partition("/")
        s3_prefix(sink, endpoint + "/" + enc(bucket), prefix, spec.get("files"), auth)
    elif url:
        s3_url(sink, url, spec.get("files"), endpoint, auth)
    else:
        raise Fail("S3 resource has no url, bucket or buckets")


# ---- Hugging Face ----


def fetch_hf(sink, spec):
    repo = spec.get("repo")
    if not isinstance(repo, str) or not repo.strip("/"):
        raise Fail("HF resource has no repo")
    repo, rev = enc(repo.strip("/")), enc(spec.get("revision") or "main", "")
    endpoint = (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")
    token = os.environ.get("N2C_HF_TOKEN")
    auth = (lambda url: {"Authorization": "Bearer " + token}) if token else None
    files = spec.get("files")
    if files is None:
        url = "%s/api/models/%s/revision/%s" % (endpoint, repo, rev)
        try:
            files = [s["rfilename"] for s in json.loads(get_bytes(url, auth)).get("siblings", [])]
        except (ValueError, TypeError, KeyError, AttributeError):
            raise Fail("unexpected reply from the Hugging Face API: GET %s" % url) from None
        if not files:
            raise Fail("no files in Hugging Face repo: GET %s" % url)
    for f in files:
        sink.download("%s/%s/resolve/%s/%s" % (endpoint, repo, rev, enc(f.lstrip("/"))), f, auth)


def fetch(argv):
    if len(argv) != 4 or argv[1] not in ("s3", "hf"):
        raise Fail("usage: fetch s3|hf DEST SPEC_JSON")
    try:
        spec = json.loads(argv[3])
    except ValueError as e:
        raise Fail("SPEC_JSON is not JSON: %s" % e) from None
    if not isinstance(spec, dict):
        raise Fail("SPEC_JSON must be a JSON object")
    content = {k: v for k, v in spec.items() if k not in NOT_CONTENT}
    digest = hashlib.sha256(json.dumps([argv[1], content], sort_keys=True).encode()).hexdigest()
    dest = Path(argv[2])
    dest.mkdir(parents=True, exist_ok=True)
    marker = dest / MARKER
    if marker.is_file() and marker.read_text().strip() == digest:
        print("cached: nothing to fetch", flush=True)
        return
    if marker.exists():
        marker.unlink()
    sink = Sink(dest)
    (fetch_s3 if argv[1] == "s3" else fetch_hf)(sink, content)
    marker.write_text(digest + "\n")
    print("done: %d files, %d bytes in %s" % (sink.files, sink.bytes, dest), flush=True)


def main(argv):
    """Exit status 0 when DEST holds the resource; 1 with one line on stderr (never a secret) otherwise."""
    try:
        fetch(argv)
    except (Fail, OSError, KeyError, TypeError, AttributeError) as e:
        bad_spec = not isinstance(e, (Fail, OSError))
        print("fetch failed: %s%s" % ("malformed resource spec: " if bad_spec else "", e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
