"""Reading a job from a file or standard input: bounded in size, strict UTF-8, one-line errors.

The whole job is held in memory, so its size is capped: NOS2COMPOSE_MAX_INPUT_BYTES
bytes if that is set, else 8 MiB: job definitions are a few kilobytes (the corpus's largest is 1.7 KB;
the node's own API takes at most 100 kB), and 8 MiB of the slowest input there is (YAML, every op wrong)
is answered within 20 s, as docs/limits.md measures. Reading goes
in chunks and stops one byte past the cap, so /dev/zero or a pipe that never ends is
refused quickly instead of exhausting memory. The bytes are decoded here, as UTF-8,
whatever the locale says: a job posted to Nosana is UTF-8 JSON.
"""

from __future__ import annotations

import os
from typing import BinaryIO

from .document import Document

LIMIT_ENV = "NOS2COMPOSE_MAX_INPUT_BYTES"
DEFAULT_LIMIT = 8 * 1024 * 1024
_CHUNK = 1 << 20


class SourceError(Exception):
    """A job that cannot be read. Its message is one line: `FILE: what is wrong; what to do`."""


def input_limit() -> int:
    """The size cap in bytes: NOS2COMPOSE_MAX_INPUT_BYTES if set, else DEFAULT_LIMIT."""
    raw = os.environ.get(LIMIT_ENV, "").strip()
    if not raw:
        return DEFAULT_LIMIT
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    raise SourceError(
        f"{LIMIT_ENV}={raw!r}: not a positive whole number of bytes; unset it or give one such as {DEFAULT_LIMIT}"
    )


def read_source(
    name: str, stream_or_path: str | os.PathLike | BinaryIO, format: str | None = None, limit: int | None = None
) -> Document:
    """Read a job into a Document that messages call `name` (a file name, or <stdin>).

    stream_or_path: a path, or an open stream such as sys.stdin.buffer (a text
    stream's .buffer is used, so the locale never decodes). format: "json" or "yaml";
    by default .yaml/.yml (of the path, else of `name`) is YAML, anything else JSON.
    limit: the most bytes accepted, by default input_limit(); at most limit + 1 are
    read. Raises SourceError for a missing, unreadable or too large file, a directory,
    or text that is not UTF-8 (naming the first bad byte's offset).
    """
    limit = input_limit() if limit is None else limit
    if isinstance(stream_or_path, (str, os.PathLike)):
        guess_from = os.fspath(stream_or_path)
        data = _read_path(name, guess_from, limit)
    else:
        guess_from = name
        data = _read_stream(name, stream_or_path, limit)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{name}: not UTF-8 text (byte {exc.start}); a job file is JSON or YAML saved as UTF-8"
        ) from None
    del data
    if format is None:
        format = "yaml" if str(guess_from).lower().endswith((".yaml", ".yml")) else "json"
    return Document(name, text, format)


def _read_path(name: str, path: str, limit: int) -> bytearray:
    try:
        with open(path, "rb", buffering=0) as stream:  # unbuffered: nothing is read past limit + 1
            return _read_stream(name, stream, limit)
    except IsADirectoryError:
        raise SourceError(f"{name}: is a directory; give a job file (JSON or YAML)") from None
    except FileNotFoundError:
        raise SourceError(f"{name}: no such file; check the path") from None
    except PermissionError:
        raise SourceError(f"{name}: cannot read it (permission denied); check the file's permissions") from None
    except OSError as exc:
        raise SourceError(f"{name}: cannot read it ({exc.strerror or exc}); give a job file (JSON or YAML)") from None


def _read_stream(name: str, stream, limit: int) -> bytearray:
    stream = getattr(stream, "buffer", stream)
    data = bytearray()
    while len(data) <= limit:
        chunk = stream.read(min(_CHUNK, limit + 1 - len(data)))
        if not chunk:
            return data
        if isinstance(chunk, str):  # a text stream with no bytes underneath (io.StringIO)
            chunk = chunk.encode("utf-8", "surrogateescape")
        data += chunk
    raise SourceError(
        f"{name}: larger than {_size(limit)}, the most a job file may be; check that it is a job "
        f"definition (or raise {LIMIT_ENV})"
    )


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit % (1 << 20) == 0 else f"{limit} bytes"
