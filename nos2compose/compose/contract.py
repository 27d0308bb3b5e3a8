"""What generated Compose files carry for nos2compose, defined once: emit writes through it, runtime reads through it.

A file `convert` writes is plain Compose plus three kinds of machinery:
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

import json
import re
from typing import Any, NamedTuple

# -- labels --------------------------------------------------------------------------------

LABEL_PREFIX = "io.nosana"
OP_LABEL = f"{LABEL_PREFIX}.op"  # the Nosana op id (the service name may differ)
GROUP_LABEL = f"{LABEL_PREFIX}.group"
GROUP_ORDER_LABEL = f"{LABEL_PREFIX}.group-order"
PROBE_FOR_LABEL = f"{LABEL_PREFIX}.probe-for"  # a sidecar that probes this op's health checks
FETCH_FOR_LABEL = f"{LABEL_PREFIX}.fetch-for"  # an init service that fetches this op's resources
CACHE_LABEL = f"{LABEL_PREFIX}.cache"  # on the shared resource cache volumes
HELPER_LABELS = (PROBE_FOR_LABEL, FETCH_FOR_LABEL)

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


def probe_service(service: str) -> str:
    """The name of an op's probe sidecar (the planner makes it unique)."""
    return f"{service}-probe"


def fetch_service(service: str, n: int) -> str:
    """The init service that fetches the op's n-th resource (1-based)."""
    return f"{service}-fetch-{n}"


def cache_volume(kind: str, keyed: str) -> str:
    """The shared cache volume of a resource (`keyed`: JSON of what decides what is fetched): the same
    resource, wherever it is mounted, shares one cache."""
    import hashlib  # here: only jobs with resources need it, and it costs convert's start about 4 ms

    digest = hashlib.sha256(json.dumps([kind, json.loads(keyed)], sort_keys=True).encode()).hexdigest()[:16]
    return CACHE_PREFIX + digest


def _upper_word(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").upper()


def secret_variable(op_id: str, n: int, env: str) -> str:
    """The variable `up` fills with a resource credential (the fetcher's env name without its N2C_)."""
    return SECRET_PREFIX + _upper_word(f"{op_id}_{n}_{env.removeprefix(VARIABLE_PREFIX)}")


# -- run-time values ---------------------------------------------------------------------------

SPLICES = {
    "text": "",
    "embedded": "_TEXT",
    "items": "_ITEMS",
    "object": "_OBJECT",
    "pairs": "_PAIRS",
    "items_chunked": "_CHUNKS",
    "object_chunked": "_OBJECT_CHUNKS",
    "pairs_chunked": "_PAIRS_CHUNKS",
}


class Placeholder(NamedTuple):  # a NamedTuple, as in model.py: immutable, and far cheaper to define than a dataclass
    """A result of an earlier op (`%%ops.OP.results.KEY%%`), known only when the group using it starts.

    `splice` says how the value is used: `text` (inside a string), `items` (list items),
    `object`/`pairs` (merged into the environment), each optionally `_chunked`.
    """

    op: str
    key: str
    splice: str = "text"

    @property
    def literal(self) -> str:
        return f"%%ops.{self.op}.results.{self.key}%%"

    def variable_base(self) -> str:
        """The Compose variable's name before the planner makes it unique."""
        return VARIABLE_PREFIX + _upper_word(f"{self.op}_{self.key}") + SPLICES[self.splice]

    def record(self) -> dict:
        """How the placeholder is written under x-nos2compose.runtime."""
        return {"op": self.op, "key": self.key, "splice": self.splice}

    @classmethod
    def from_record(cls, value: Any) -> Placeholder | None:
        """The placeholder a runtime record stands for; None when the record is not one (a hand edit)."""
        if not isinstance(value, dict):
            return None
        op, key, splice = value.get("op"), value.get("key"), value.get("splice", "text")
        if not (isinstance(op, str) and isinstance(key, str) and splice in SPLICES):
            return None
        return cls(op, key, splice)


class Variable(NamedTuple):
    """A generated Compose variable, by name, where the emitter writes a reference to it."""

    name: str


UP_FILLS = "set by nos2compose up"
REFERENCE = re.compile(r"\$\{(" + VARIABLE_PREFIX + r"[A-Za-z0-9_]*)(?::?\?[^}]*)?\}")


def reference(variable: str) -> str:
    """A generated variable as it stands in a file: plain `docker compose` stops with Compose's own
    message naming it when it is not set; set and empty is a value (a result that matched nothing)."""
    return "${" + variable + "?" + UP_FILLS + "}"


def references(text: str) -> list[str]:
    """The generated variables a piece of file text uses (a `$$` of the job is never one)."""
    return [m.group(1) for m in REFERENCE.finditer(text) if not _escaped(text, m.start())]


def substitute(text: str, value_of) -> str:
    """`text` with each generated variable's reference replaced by `value_of(name)` (kept where that is None)."""

    def one(m: re.Match) -> str:
        found = None if _escaped(text, m.start()) else value_of(m.group(1))
        return m.group(0) if found is None else found

    return REFERENCE.sub(one, text)


def _escaped(text: str, at: int) -> bool:
    """Whether the `$` at `at` is the second half of `$$`: count the dollars before it."""
    n = 0
    while at - n - 1 >= 0 and text[at - n - 1] == "$":
        n += 1
    return n % 2 == 1
