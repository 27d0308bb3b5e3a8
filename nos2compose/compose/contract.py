"""The vocabulary of what generated Compose files carry for nos2compose: label names, keys, script and helper names.

A file `convert` writes is plain Compose (with the node's container declared once, NODE_BLOCK, and
merged into each op's service: compose/node_defaults.py) plus three kinds of machinery, named here and
written and read only by compose/codec.py:
- labels on services (and cache volumes), which the engine keeps, so `ps` and the
  API find a job's ops, groups and helpers from the engine alone;
- `x-nos2compose` blocks (top level and per service), which Compose ignores and
  the supervisor reads: the group's order, results to extract, where run-time
  values go;
- `${N2C_…?…}` variables, the only interpolation a generated file holds, for
  values `up` knows only when a group starts (results of earlier ops,
  credentials). Every `$` of the job itself is written as `$$`, so no job text
  can ever become one of these.
"""

from __future__ import annotations

# -- labels --------------------------------------------------------------------------------

LABEL_PREFIX = "io.nosana"
OP_LABEL = f"{LABEL_PREFIX}.op"  # the Nosana op id (the service name may differ)
GROUP_LABEL = f"{LABEL_PREFIX}.group"
GROUP_ORDER_LABEL = f"{LABEL_PREFIX}.group-order"
PROBE_FOR_LABEL = f"{LABEL_PREFIX}.probe-for"  # a sidecar that probes this op's health checks
FETCH_FOR_LABEL = f"{LABEL_PREFIX}.fetch-for"  # an init service that fetches this op's resources
CACHE_LABEL = f"{LABEL_PREFIX}.cache"  # on the shared resource cache volumes

# -- x-nos2compose ---------------------------------------------------------------------------

EXTENSION = "x-nos2compose"
# top level
JOB_KEY, SOURCE_KEY, GROUPS_KEY, GROUP_KEY, ORDER_KEY = "job", "source", "groups", "group", "order"
RUNTIME_KEY = "runtime"  # {VAR: {op, key, splice}}: results `up` fills in
SECRETS_KEY = "secrets"  # [VAR]: credentials `up` supplies through the environment
CREATE_VOLUMES_KEY = "create_volumes"  # {op id: {group, name}}: create-volume ops whose volume the file creates
# per service
RESULTS_KEY = "results"  # {key: {regex, logType?}}
STOP_IF_DEPENDENT_STOPS_KEY = "stop_if_dependent_stops"
ENVIRONMENT_FROM_KEY = "environment_from"  # ["${VAR}"]: objects merged into the environment at group start
UNRESOLVED_KEY = "unresolved"  # [message]: literals the node cannot resolve; `up` fails the op before it starts
ENGINE_REFUSES_KEY = "engine_refuses"  # [message]: Docker refuses the node's container for it; `up` fails it, exit 2
# the job's own words (written.py), at the top level, per service and per create_volumes entry: import gives them back
AS_WRITTEN_KEY = "as_written"  # {key: value}: what the job wrote where the file says it another way
AS_JSON_KEY = "as_written_json"  # {key: JSON text}: the same, for values Compose would change ([] is null, 1.0 is 1)
NOT_WRITTEN_KEY = "not_written"  # ["args.image"]: what the job left out that the file spells (from global)
INDEX_KEY = "index"  # the op's place in the job's ops, when the job orders them otherwise than import would

# -- the node's container (compose/node_defaults.py), declared once per file and merged by each op ----------

NODE_BLOCK = "x-nosana-node"  # top level: `x-nosana-node: &nosana-node`, what a Nosana node gives every op
NODE_ANCHOR = "nosana-node"  # each op's service: `<<: *nosana-node`
NODE_ENV_ANCHOR = "nosana-env"  # each op's environment: `<<: *nosana-env`

# -- scripts, carried once per file as top-level configs ----------------------------------------

SCRIPTS_DIR = "/nos2compose"  # where services find them
PROBE_CONFIG = "nos2compose-probe"  # scripts/probe.sh with every fallback the job needs
CURL_PROBE_CONFIG = "nos2compose-probe-curl"  # the same for a sidecar image known to have curl: curl only
FETCH_CONFIG = "nos2compose-fetch"  # scripts/fetch.py
OLLAMA_CONFIG = "nos2compose-ollama-pull"  # scripts/ollama_pull.sh
SCRIPT_PATHS = {
    PROBE_CONFIG: f"{SCRIPTS_DIR}/probe.sh",
    CURL_PROBE_CONFIG: f"{SCRIPTS_DIR}/probe.sh",
    FETCH_CONFIG: f"{SCRIPTS_DIR}/fetch.py",
    OLLAMA_CONFIG: f"{SCRIPTS_DIR}/ollama-pull.sh",
}

# -- names -----------------------------------------------------------------------------------

OVERRIDE_SUFFIX = ".override.yaml"  # NN-GROUP.override.yaml: the user's edits, applied after the group file
CACHE_PREFIX = "nos2compose-cache-"
VARIABLE_PREFIX = "N2C_"
SECRET_PREFIX = "N2C_SECRET_"
UP_FILLS = "set by nos2compose up"  # what plain `docker compose` says of a generated variable it lacks
