"""An HTTP health-check request for images with python3 but no curl or wget.

Run as `python3 - METHOD URL HASBODY BODY [HEADER...]` by probe.sh; prints the status code.
The path is sent exactly as the job wrote it (no normalization).
"""

import http.client
import sys

method, url, has_body, body = sys.argv[1:5]
headers = dict(h.split(": ", 1) for h in sys.argv[5:])
rest = url.split("://", 1)[1]
hostport, slash, path = rest.partition("/")
host, _, port = hostport.rpartition(":")
connection = http.client.HTTPConnection(host, int(port), timeout=5)
connection.request(method, slash + path, body.encode() if has_body == "1" else None, headers)
print(connection.getresponse().status)
