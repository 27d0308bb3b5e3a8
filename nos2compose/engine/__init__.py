"""The engine boundary: every `docker` and `docker compose` process nos2compose starts is started here.

- protocol.py: what the supervisor, the API and the commands ask of an engine (`Engine`), the rows it
  answers with (`Container`), and its one error (`EngineError`);
- docker.py: the real engine, through python-on-whales where it serves and the docker CLI elsewhere; rows.py
  reads what `docker ps` prints; compose_config.py runs `docker compose … config` for the Compose adapter;
- process.py: the one place a process is started (docker, docker compose, nvidia-smi), with the
  environment passed explicitly, never through os.environ;
- logs.py: container logs, read and followed as the node reads them;
- host.py: what the machine says of its GPUs (nvidia-smi).
The tests' fake engine satisfies the same protocol.
"""
