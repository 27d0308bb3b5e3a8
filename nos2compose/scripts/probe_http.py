"""An HTTP health-check request for images with python3 but no curl or wget.

Run as `python3 - METHOD URL HASBODY BODY [HEADER...]` by probe.sh; prints the status code.
The path is sent exactly as the job wrote it (no normalization). The request is written header by header:
http.client's request() would add `Content-Length: 0` to a POST without a body, which the node's curl does not send.
"""

import http.client
import sys

method, url, has_body, body = sys.argv[1:5]
headers = [h.split(": ", 1) for h in sys.argv[5:]]
rest = url.split("://", 1)[1]
hostport, slash, path = rest.partition("/")
host, _, port = hostport.rpartition(":")
connection = http.client.HTTPConnection(host, int(port), timeout=5)
connection.putrequest(
    method, slash + path, skip_host=any(k.lower() == "host" for k, _ in headers), skip_accept_encoding=True
)
data = body.encode() if has_body == "1" else None
for key, value in headers:
    connection.putheader(key, value)
if data is not None:
    connection.putheader("Content-Length", str(len(data)))
connection.endheaders(data)
print(connection.getresponse().status)
