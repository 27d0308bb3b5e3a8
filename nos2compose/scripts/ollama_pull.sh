#!/bin/sh
# Pull an Ollama model into the store a cache volume holds, as a node does before the op starts.
#   ollama_pull.sh MODEL     (runs in an image with ollama: the op's own, or --ollama-image)
ollama serve >/dev/null 2>&1 &
n=0
until ollama list >/dev/null 2>&1; do
  n=$((n + 1))
  [ "$n" -gt 60 ] && { echo "ollama did not start within 60 s" >&2; exit 1; }
  sleep 1
done
exec ollama pull "$1"
