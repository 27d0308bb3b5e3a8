# A websocket health check over bash's /dev/tcp: the handshake, then the reply must contain a text.
# Run as `bash -s ws://HOST:PORT/PATH EXPECTED` by probe.sh; exit 0 when it does.
url=$1 want=$2
rest=${url#*://}
hostport=${rest%%/*}
path=/${rest#*/}
[ "$rest" = "$hostport" ] && path=/
exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}" || exit 1
printf '%s\r\n' "GET $path HTTP/1.1" "Host: $hostport" "Upgrade: websocket" "Connection: Upgrade" \
  "Sec-WebSocket-Key: bm9zMmNvbXBvc2UtcHJvYmU=" "Sec-WebSocket-Version: 13" "" >&3
IFS= read -r -t 5 -d "" reply <&3
case "$reply" in *" 101 "*"$want"*) exit 0 ;; esac
exit 1
