"""A websocket health check for images with python3: the handshake, then the reply must contain a text.

Run as `python3 - ws://HOST:PORT/PATH EXPECTED` by probe.sh; exit 0 when it does.
"""

import base64
import os
import socket
import sys
import time

url, want = sys.argv[1], sys.argv[2].encode()
hostport, slash, path = url.split("://", 1)[1].partition("/")
host, _, port = hostport.rpartition(":")
s = socket.create_connection((host, int(port)), timeout=5)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(
    (
        f"GET {slash + path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
)
data, end = b"", time.time() + 5
while time.time() < end:
    try:
        chunk = s.recv(4096)
    except socket.timeout:
        break
    if not chunk:
        break
    data += chunk
    head, sep, rest = data.partition(b"\r\n\r\n")
    if sep and b" 101 " in head.split(b"\r\n")[0] and want in rest:
        sys.exit(0)
sys.exit(1)
