"""The one place nos2compose starts a process (docker, docker compose, nvidia-smi).

Values a process needs beyond this process's own environment (results of earlier ops, credentials)
are passed as that process's environment, explicitly; nothing here or anywhere writes os.environ.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Mapping


def environment(values: Mapping[str, str] | None) -> dict[str, str] | None:
    """This process's environment with `values` over it (None: inherit it unchanged)."""
    return None if not values else {**os.environ, **values}


def run(
    command: list[str], timeout: float = 60, env: Mapping[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess:
    """A command run to its end, its output kept as text (the caller reads returncode, stdout and stderr).
    `env` is the whole environment it gets (None: this process's; see environment()). OSError when it cannot
    start; TimedOut past `timeout`."""
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=None if env is None else dict(env),
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
    )


def start(command: list[str], stderr: bool = False, quiet: bool = False) -> subprocess.Popen:
    """A command left running: its standard output (and error, with `stderr`) as byte pipes to read
    (`quiet`: both discarded, for a process only waited for)."""
    out = subprocess.DEVNULL if quiet else subprocess.PIPE
    err = subprocess.PIPE if stderr and not quiet else subprocess.DEVNULL
    return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err)


def end(proc: subprocess.Popen, grace: float = 5) -> None:
    """Terminate a started process, then kill it after `grace` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def finished(proc: subprocess.Popen, timeout: float) -> int | None:
    """The exit status of a started process, waiting up to `timeout`; None if it is still running."""
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


TimedOut = subprocess.TimeoutExpired


def dial(command: list[str]):
    """A command whose standard input and output are one end of a socket pair (`docker system dial-stdio`: a
    connection to the engine's API, wherever the docker CLI is pointed); returns (process, our end)."""
    import socket

    ours, theirs = socket.socketpair()
    try:
        proc = subprocess.Popen(command, stdin=theirs, stdout=theirs, stderr=subprocess.DEVNULL)
    finally:
        theirs.close()
    return proc, ours


def hang_up(proc: subprocess.Popen, sock) -> None:
    """End a dial(): closing our end ends `docker system dial-stdio` (it ignores SIGTERM while it copies)."""
    import socket

    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
    end(proc, grace=1)


def attached(command: list[str]) -> int:
    """A command run on this process's own terminal (standard input, output and error), to its end; its status."""
    return subprocess.call(command)


class Tty:
    """A command on a pseudo-terminal of its own (a real tty: full-screen programs work, and it can be resized).
    Read its output from `fd`; write keystrokes to it."""

    #: `docker exec` ignores SIGWINCH until its first resize call to the engine has returned, a moment after it
    #: starts (and after its first output): a size changed in that moment would be lost for good. So while the
    #: command is young, a resize sends the signal again a little later (harmless: an unchanged size is no change).
    YOUNG = 10.0
    AGAIN = (0.25, 1.0, 3.0)

    def __init__(self, command: list[str], cols: int = 80, rows: int = 24):
        import pty

        self._started = time.monotonic()
        self._again: list[threading.Timer] = []
        self.fd, child = pty.openpty()
        self._size(child, cols, rows)
        try:
            self.proc = subprocess.Popen(command, stdin=child, stdout=child, stderr=child, start_new_session=True)
        except OSError:
            os.close(self.fd)
            raise
        finally:
            os.close(child)

    @staticmethod
    def _size(fd: int, cols: int, rows: int) -> None:
        import fcntl
        import struct
        import termios

        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", max(1, rows), max(1, cols), 0, 0))

    def resize(self, cols: int, rows: int) -> None:
        """A new size: the terminal's, then SIGWINCH, which `docker exec` passes on to the engine (again, later,
        while the command is young: see YOUNG)."""
        self._size(self.fd, cols, rows)
        self._winch()
        for timer in self._again:  # the signal reads the latest size: only the last resize's repeats are needed
            timer.cancel()
        age = time.monotonic() - self._started
        self._again = [self._winch_later(delay) for delay in self.AGAIN if age + delay <= self.YOUNG]

    def _winch_later(self, delay: float) -> threading.Timer:
        timer = threading.Timer(delay, self._winch)
        timer.daemon = True
        timer.start()
        return timer

    def _winch(self) -> None:
        import signal

        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGWINCH)

    def write(self, data: bytes) -> None:
        while data:
            data = data[os.write(self.fd, data) :]

    def read(self, size: int = 65536) -> bytes:
        """What the command wrote since ('' once it has ended)."""
        try:
            return os.read(self.fd, size)
        except OSError:  # EIO: the other side closed
            return b""

    def close(self) -> int | None:
        """End the command (when it still runs) and the terminal; its exit status."""
        for timer in self._again:
            timer.cancel()
        end(self.proc, grace=2)
        try:
            os.close(self.fd)
        except OSError:
            pass
        return self.proc.returncode
