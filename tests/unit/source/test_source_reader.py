"""read_source: a job file or standard input, read in chunks up to a size limit, decoded as UTF-8."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from nos2compose.source import reader
from nos2compose.source.reader import DEFAULT_LIMIT, LIMIT_ENV, SourceError, read_source

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _no_limit_from_the_environment(monkeypatch):
    monkeypatch.delenv(LIMIT_ENV, raising=False)


def refused(name, source, *fragments, **kwargs) -> str:
    """The one-line message, `NAME: what is wrong; what to do`, holding every fragment."""
    with pytest.raises(SourceError) as caught:
        read_source(name, source, **kwargs)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{name}: ") and "; " in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


def test_reads_a_file_and_guesses_the_format_from_its_name(tmp_path):
    for name, fmt in [
        ("job.json", "json"),
        ("job.yaml", "yaml"),
        ("JOB.YML", "yaml"),
        ("job", "json"),
        ("job.txt", "json"),
    ]:
        (tmp_path / name).write_text('{"a": "é"}', encoding="utf-8")
        doc = read_source(name, tmp_path / name)
        assert (doc.name, doc.format, doc.text) == (name, fmt, '{"a": "é"}')
        assert doc.parse() == ({"a": "é"}, None)
    assert read_source("job.json", str(tmp_path / "job.json"), format="yaml").format == "yaml"


def test_reads_standard_input_as_bytes_whatever_the_stream_s_own_encoding():
    data = '{"a": "é日本"}'.encode()
    assert read_source("<stdin>", io.BytesIO(data)).text == '{"a": "é日本"}'
    latin1 = io.TextIOWrapper(io.BytesIO(data), encoding="latin-1")  # a C/latin-1 locale's sys.stdin
    doc = read_source("<stdin>", latin1)
    assert (doc.text, doc.format) == ('{"a": "é日本"}', "json")
    assert read_source("<stdin>", io.StringIO("a: 1\n"), format="yaml").parse() == ({"a": 1}, None)


def test_decodes_utf8_under_a_c_locale():
    code = (
        "import sys; from nos2compose.source.reader import read_source\n"
        "print(ascii(read_source('<stdin>', sys.stdin).parse()[0]))\n"
    )
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": "latin-1"}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        input='{"a": "é日本"}'.encode(),
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().strip() == ascii({"a": "é日本"})


def test_text_that_is_not_utf8_is_refused_naming_the_byte(tmp_path):
    (tmp_path / "bin.json").write_bytes(b'{"a": "\xff"}')
    refused("bin.json", tmp_path / "bin.json", "not UTF-8 text (byte 7)")
    refused("<stdin>", io.BytesIO(b'{"a": "caf\xc3"}'), "not UTF-8 text (byte 10)")
    refused("latin1.yaml", io.BytesIO("a: café".encode("latin-1")), "(byte 6)")


def test_missing_files_and_directories_are_refused(tmp_path):
    refused("nope.json", tmp_path / "nope.json", "no such file")
    refused("dir", tmp_path, "is a directory", "give a job file")


def test_an_unreadable_file_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "secret.json"
    path.write_text("{}")
    if os.geteuid() != 0:  # root reads anything: then only the simulated case runs
        path.chmod(0)
        refused("secret.json", path, "cannot read it (permission denied)")
        path.chmod(0o600)

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(reader, "open", denied, raising=False)
    refused("secret.json", path, "cannot read it (permission denied)", "permissions")


class Endless(io.RawIOBase):
    """A stream that never ends, counting what is read from it."""

    def __init__(self):
        self.served = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        buffer[:] = b" " * len(buffer)
        self.served += len(buffer)
        return len(buffer)


def test_reading_stops_one_byte_past_the_limit(tmp_path):
    stream = Endless()
    refused("<stdin>", stream, "larger than 1000 bytes", LIMIT_ENV, limit=1000)
    assert stream.served == 1001
    (tmp_path / "exact.json").write_bytes(b" " * 99 + b"1")
    assert read_source("exact.json", tmp_path / "exact.json", limit=100).parse() == (1, None)
    (tmp_path / "over.json").write_bytes(b" " * 100 + b"1")
    refused("over.json", tmp_path / "over.json", "larger than 100 bytes", limit=100)


def test_dev_zero_stops_at_8_mib_quickly():
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    started = time.monotonic()
    refused("/dev/zero", "/dev/zero", "larger than 8 MiB, the most a job file may be")
    assert time.monotonic() - started < 5
    assert DEFAULT_LIMIT == 8 * 1024 * 1024


def test_a_pipe_that_never_ends_stops_at_the_limit():
    read_end, write_end = os.pipe()

    def write_forever():
        with open(write_end, "wb", buffering=0) as out:
            try:
                while True:
                    out.write(b"[1, " * 4096)
            except (BrokenPipeError, OSError):
                pass

    writer = threading.Thread(target=write_forever, daemon=True)
    writer.start()
    started = time.monotonic()
    with open(read_end, "rb") as stream:
        refused("<stdin>", stream, "larger than 2 MiB", limit=2 * 1024 * 1024)
    writer.join(10)
    assert not writer.is_alive() and time.monotonic() - started < 10


def test_the_limit_comes_from_the_environment(tmp_path, monkeypatch):
    (tmp_path / "job.json").write_bytes(b"[1, 2, 3]")  # 9 bytes
    monkeypatch.setenv(LIMIT_ENV, "9")
    assert read_source("job.json", tmp_path / "job.json").parse() == ([1, 2, 3], None)
    monkeypatch.setenv(LIMIT_ENV, "8")
    refused("job.json", tmp_path / "job.json", "larger than 8 bytes")
    assert read_source("job.json", tmp_path / "job.json", limit=9).text == "[1, 2, 3]"  # an explicit limit wins
    for bad in ["lots", "0", "-5", "1.5"]:
        monkeypatch.setenv(LIMIT_ENV, bad)
        with pytest.raises(SourceError) as caught:
            read_source("job.json", tmp_path / "job.json")
        assert str(caught.value).startswith(f"{LIMIT_ENV}=") and "\n" not in str(caught.value)


def test_a_byte_order_mark_read_from_a_file_is_ignored_with_a_warning(tmp_path):
    (tmp_path / "job.json").write_bytes(b'\xef\xbb\xbf{"a": 1}')
    doc = read_source("job.json", tmp_path / "job.json")
    assert doc.parse() == ({"a": 1}, None)
    assert [w.message for w in doc.warnings] == ["the file starts with a UTF-8 byte order mark; it is ignored"]
