"""What convert time knows of each literal (`%%global.variables.X%%`, `%%ops.ID.host%%`, ...): its value, or why
there is none (Unresolved), and what splicing it costs. literals.py walks an op's args with it.
"""

from __future__ import annotations

import re
from typing import Any

from ..diagnostics import Path
from ..model import Placeholder, Template
from .expansion import splice_cost
from .limits import TooLarge, output_limit
from .limits import placed as _at
from .node_values import json_if_it_looks_like

# the node's patterns: three parts (ops or global, a key without dots, a path), or two (global(s) and a key)
LITERAL = re.compile(r"%%((?:ops|global)\.[^.]+\.[A-Za-z0-9._-]+|globals?\.[^.]+)%%")
LOCAL_HOST = "127.0.0.1"

RUN_TIME = "run-time"  # known only to the node, never locally (its tunnel server's address)
RESULT = "result"  # %%ops.X.results.K%%: filled in by the supervisor when a later group starts
UNKNOWN = "unknown"  # the node finds no value: the op fails before it starts


class Unresolved(Exception):
    """A literal that cannot be turned into a value; `kind` says why, `code` which warning says so."""

    def __init__(self, literal: str, kind: str, message: str, code: str = "NOS301"):
        super().__init__(message)
        self.literal, self.kind, self.message, self.code = literal, kind, message, code


class LiteralContext:
    """What convert time knows: the job's variables, its local name and its service names."""

    def __init__(
        self,
        job_name: str,
        variables: dict[str, Any] | None,  # None: the job has no global.variables
        service_names: dict[str, str],
        group_order: dict[str, int] | None = None,
        result_keys: dict[str, set] | None = None,
        exposed: dict[str, set] | None = None,
    ):
        self.job_name = job_name
        self.variables = variables or {}
        self.has_variables = variables is not None
        self.service_names = service_names  # op id -> Compose service name
        self.group_order = group_order or {}  # op id -> its group's position
        self.result_keys = result_keys or {}  # op id -> the keys of its results
        self.exposed = exposed or {}  # op id -> its exposed ports as text (for %%ops.ID.endpoint.PORT%%)
        self.first_use: dict[Placeholder, tuple[Path, str]] = {}  # where each placeholder first appears
        self.unresolved: dict[str, list[str]] = {}  # op id -> the node's messages for what fails it at its start
        self.limit = output_limit()
        self.spent = 0  # bytes the literals' values have added so far
        self._values: dict[str, tuple[Any, dict]] = {}  # literal -> (its value, parsed; its cost by splice)
        self._made: dict[tuple, Any] = {}  # (how, text) -> a literal's value made text or items

    def made(self, key: tuple, path: Path, convert, value: Any) -> Any:
        """convert(value), once per key when its text holds literals: a big value spliced into many fields is
        made text (or items) once, not at every use (which took time in the size of the whole expansion).
        Lists are copied, as `charge` does."""
        found = self._made.get(key)
        if found is None:
            found = _at(path, convert, value)
            if "%%" in key[1] and isinstance(found, (str, list)):
                self._made[key] = found
        return list(found) if isinstance(found, list) else found

    def charge(self, literal: str, path: Path, splice: str = "text") -> Any:
        """A literal's value as the node uses it (parsed once per literal; Unresolved when there is none),
        counted against the output limit at the least this use adds to the file (expansion.py): TooLarge as
        soon as the job would expand past it (a small job can splice a big value many times)."""
        known = self._values.get(literal)
        if known is None:
            known = self._values[literal] = (_at(path, _parsed, self.value(literal)), {})
        value, costs = known
        cost = costs.get(splice)
        if cost is None:
            cost = costs[splice] = _at(path, splice_cost, value, splice)
        self.spent += cost
        if self.spent > self.limit:
            raise TooLarge(path, self.limit)
        return list(value) if isinstance(value, list) else value

    def placeholder(self, op_id: str, key: str, splice: str, where: tuple[Path, str]) -> Template:
        """A result the supervisor fills in, as a value standing alone (the planner names its variable)."""
        found = Placeholder(op_id, key, splice)
        self.first_use.setdefault(found, where)
        return Template([found])

    def result_literal(self, literal: str, user_group: int) -> tuple[str, str]:
        """(op id, key) of a results literal the supervisor can fill in for an op of group `user_group`."""
        _, op_id, _, key = literal.split(".", 3)
        if key not in self.result_keys.get(op_id, ()):
            raise Unresolved(literal, UNKNOWN, f"op '{op_id}' declares no result '{key}'")
        if self.group_order.get(op_id, 0) >= user_group:
            raise Unresolved(
                literal,
                UNKNOWN,
                f"results of op '{op_id}' exist only once it has exited, which is "
                "never before an op of its own or an earlier group starts",
                "NOS302",
            )
        return op_id, key

    def value(self, literal: str) -> Any:
        """The value the node gives a literal (the text between the %%), as far as convert time knows it."""
        root, key, *rest = literal.split(".", 2)
        path = rest[0] if rest else None
        if root in ("global", "globals"):
            return self._global(literal, key, path)
        if key not in self.service_names:
            raise Unresolved(literal, UNKNOWN, f"there is no op '{key}' in this job")
        if path == "host":
            return self.service_names[key]
        head, _, tail = path.partition(".")
        if head == "endpoint" and tail in self.exposed.get(key, ()):
            return f"{self.service_names[key]}:{tail}"  # the node gives a host name; here the op's service and port
        if head == "results" and tail and "." not in tail:
            raise Unresolved(literal, RESULT, f"its value is only known at run time (results of op '{key}')")
        raise Unresolved(literal, UNKNOWN, f"op '{key}' has no {path}")

    def _global(self, literal: str, key: str, path: str | None) -> Any:
        if key == "variables" and path is None:  # the node's globalStore.variables: an object ("[object Object]")
            if not self.has_variables:
                raise Unresolved(literal, UNKNOWN, "the job has no global.variables")
            return dict(self.variables)
        if key == "variables" and path is not None:
            if "." in path:  # the node walks X.Y as variables[X][Y]: a variable "X.Y" is never reached
                raise Unresolved(
                    literal,
                    UNKNOWN,
                    f"the node reads '{path}' as a path (variable '{path.split('.')[0]}', then a key in its value, "
                    "which is text): a variable named with a dot is never reached",
                )
            if path not in self.variables or self.variables[path] == "":
                raise Unresolved(literal, UNKNOWN, f"global.variables has no '{path}'")
            return self.variables[path]
        if path is None and key in ("job", "project"):
            return self.job_name
        if path is None and key == "host":
            return LOCAL_HOST
        if path is None and key == "frps_address":
            raise Unresolved(literal, RUN_TIME, "the node's tunnel server address has no local equivalent")
        raise Unresolved(
            literal,
            UNKNOWN,
            "not a value the node knows (global.variables, global.variables.X, global.job, "
            "global.host, global.project, global.frps_address)",
        )

    @staticmethod
    def node_message(literal: str) -> str:
        """The node's words when it cannot resolve a literal (interpolateOperation.ts)."""
        root, key, *rest = literal.split(".", 2)
        if root == "ops":
            return f'Unresolved literal: "%%{literal}%%" (opId="{key}", path="{rest[0]}")'
        return f'Unresolved literal: "%%{literal}%%" (key="{key}{"." + rest[0] if rest else ""}")'


def _parsed(value: Any) -> Any:
    """A literal's value as the node's first step leaves it: JSON-looking text parsed (each item of an array)."""
    if isinstance(value, list):
        return [json_if_it_looks_like(v) for v in value]
    return json_if_it_looks_like(value)
