# An HTTP health-check request over bash's /dev/tcp, for images with bash but no curl, wget or python3.
# Run as `bash -s METHOD URL HASBODY BODY [HEADER...]` by probe.sh; prints the status code.
method=$1 url=$2 hasbody=$3 body=$4
shift 4
rest=${url#*://}
hostport=${rest%%/*}
path=/${rest#*/}
[ "$rest" = "$hostport" ] && path=/
exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}" || exit 1
{
  printf "%s %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n" "$method" "$path" "$hostport"
  for h in "$@"; do printf "%s\r\n" "$h"; done
  if [ "$hasbody" = 1 ]; then
    LC_ALL=C
    printf "Content-Length: %s\r\n\r\n%s" "${#body}" "$body"
  else
    printf "\r\n"
  fi
} >&3
read -r -t 5 _ code _ <&3 && printf "%s" "$code"
