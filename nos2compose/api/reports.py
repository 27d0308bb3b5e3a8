"""What the node's reporting routes answer for a local job: the flow state (/results), /info, /endpoints,
/node/info and the status page's view, read through the job's JobView (view.py)."""

from __future__ import annotations

from datetime import datetime, timezone

from ..supervisor import record
from ..supervisor.states import ENDED, FAILED, HEALTHY, PENDING, OpStatus, ended_state, errors_of
from .machine import expose_id, machine_info
from .view import JobView
from .words import EXPIRED_REASON, LOG_LINES, MAX_LOGS, flow_status, has_run


class FlowReports:
    def __init__(self, view: JobView, job_definition: dict | None = None):
        self.view, self.job_definition = view, job_definition
        self.plan, self.engine = view.plan, view.engine
        self._machine: dict | None = None

    def _definition_index(self) -> dict[str, int]:
        ops = (self.job_definition or {}).get("ops") if isinstance(self.job_definition, dict) else None
        if isinstance(ops, list):
            ids = [op.get("id") for op in ops if isinstance(op, dict)]
            if all(op.id in ids for op in self.plan.ops):
                return {op.id: ids.index(op.id) for op in self.plan.ops}
        return {op.id: i for i, op in enumerate(self.plan.ops)}

    def _private(self) -> bool:
        ops = (self.job_definition or {}).get("ops") if isinstance(self.job_definition, dict) else None
        return isinstance(ops, list) and any(
            isinstance(op, dict) and isinstance(op.get("args"), dict) and op["args"].get("private") is True
            for op in ops
        )

    def _secrets(self, statuses: list[OpStatus]) -> dict:
        """The node's `secrets` while the flow runs: {flow id: {expose id: {opID, port, url, status}}, urlmode}.

        Expose ids are derived as the node derives them (from the op's index, the port and the flow id,
        here the job's project name); urls are the local ones; status ONLINE once its health check
        passes, OFFLINE before or after, UNKNOWN for a running op without checks."""
        index = self._definition_index()
        urls = {}
        for s in statuses:
            if not s.op.ports or not s.present:
                continue
            if self.view.has_ended(s):
                state = "OFFLINE"
            elif s.op.has_health_check:
                state = "ONLINE" if s.state == HEALTHY else "OFFLINE"
            else:
                state = "UNKNOWN"
            for host, port in s.op.ports:
                key = expose_id(self.plan.project, index[s.op.id], port)
                urls[key] = {"opID": s.op.id, "port": port, "url": f"http://127.0.0.1:{host}", "status": state}
        if not urls:
            return {}
        return {self.plan.project: urls, "urlmode": "private" if self._private() else "public"}

    def _op_state(self, s: OpStatus, detail: dict, note: dict, with_logs: bool) -> dict:
        """One of the flow's opStates, as the node stores it (createDefaultOpState, then the op's events)."""
        ran = has_run(s)
        expired = s.op.id in self.view.expired and self.view.has_ended(s)
        start = detail.get("started") if ran else None
        restarted = ((detail.get("state") or {}).get("RestartCount") or 0) > 0
        if ran and restarted and isinstance(detail.get("created"), int):
            start = detail["created"]  # the op began with its first run: Docker keeps only the last run's StartedAt
        end = detail.get("finished") if ran and s.state in ENDED else None
        status, exit_code = flow_status(s), s.exit_code
        if s.state == FAILED and not ran:  # it could not run: the record knows when
            start = end = note.get("at") if isinstance(note.get("at"), int) else None
        if expired:
            status = "success"
            if s.state == PENDING:  # the node marks what had not begun as ended then, exit code 0
                end, exit_code = self.view.expired[s.op.id], 0
        reason: dict = {"hostShutDown": False, "jobStopped": False, "jobExpired": False}
        if expired and ran:
            reason.update(jobExpired=True, reason=EXPIRED_REASON)
        stamped: list[tuple[str, str, str]] = []
        if s.container_id and ran and (with_logs or (s.op.results and s.exited)):
            stamped = self.engine.stamped_lines(s.container_id)
        diagnostics: dict = {"reason": reason}
        state = ended_state(s, detail)
        if state is not None:
            diagnostics["state"] = state
        out = {
            "operationId": s.op.id,
            "group": s.op.group,
            "providerId": detail.get("id") if s.present else None,
            "status": status,
            "startTime": start,
            "endTime": end,
            "exitCode": exit_code,
            "logs": _logs(s, stamped, ran) if with_logs else [],
            "errors": errors_of(s, note),
            "diagnostics": diagnostics,
        }
        if s.op.results and s.exited and ran:  # the node sets results when the op exits
            from ..results import extract

            out["results"] = extract(s.op.results, [(stream, text) for stream, text, _ in stamped])
        return out

    def _flow(self, statuses: list[OpStatus], with_logs: bool) -> dict:
        details = {d["service"]: d for d in self.engine.inspect_all()}
        notes = (record.read(self.plan.project) or {}).get("ops") or {}
        op_states = [
            self._op_state(s, details.get(s.op.service, {}), notes.get(s.op.id) or {}, with_logs) for s in statuses
        ]
        ended = self.view.ended(statuses)
        starts = [o["startTime"] for o in op_states if o["startTime"] is not None]
        ends = [o["endTime"] for o in op_states if o["endTime"] is not None]
        return {
            "status": "success" if ended else "running",  # the node's flow ends `success` even when ops failed
            "startTime": min(starts) if starts else self.view.started,
            "endTime": (max(ends) if ends else self.view.started) if ended else None,
            "secrets": {} if ended else self._secrets(statuses),
            "opStates": op_states,
        }

    def results(self) -> dict:
        """The node's FlowState (`GET /job/<id>/results`): every op with status, times (ms), exit code, logs,
        results."""
        return self._flow(self.view.statuses(), with_logs=True)

    def info(self) -> dict:
        """One frame of the node's `GET /job/<id>/info`: the flow without logs and provider ids, its errors,
        and the task's statuses."""
        statuses = self.view.statuses()
        flow = self._flow(statuses, with_logs=False)
        op_states = [{k: v for k, v in o.items() if k not in ("logs", "providerId")} for o in flow.pop("opStates")]
        words = self.view.ops(statuses)
        active = self.view.active_group(statuses)
        operations: dict = {"all": words}
        if active is not None:
            operations["currentGroup"] = active.name
        ids = {op.id for op in active.ops} if active is not None else set()
        operations["currentGroupStatus"] = {k: v for k, v in words.items() if k in ids}
        return {**flow, "errors": [], "opStates": op_states, "operations": operations}

    def endpoints(self) -> dict | None:
        """The node's `GET /job/<id>/endpoints`: {urls, status}; None when the job exposes nothing now."""
        statuses = self.view.statuses()
        if self.view.ended(statuses):
            return None
        urls = self._secrets(statuses).get(self.plan.project)
        if not urls:
            return None
        online = any(v["status"] == "ONLINE" for v in urls.values())
        return {"urls": urls, "status": "ONLINE" if online else "OFFLINE"}

    # -- the node itself -----------------------------------------------------------------

    def node_info(self) -> dict:
        """The node's `GET /node/info` with this machine's values: {node, uptime, state, info}."""
        from ..load.literals import LOCAL_HOST

        if self._machine is None:
            self._machine = machine_info()
        uptime = datetime.fromtimestamp(self.view.started / 1000, tz=timezone.utc)
        running = not self.view.ended(self.view.statuses())
        return {
            "node": LOCAL_HOST,  # what %%global.host%% (the node's address) is locally
            "uptime": uptime.strftime("%Y-%m-%dT%H:%M:%S.") + f"{uptime.microsecond // 1000:03d}Z",
            "state": "RUNNING_JOB" if running else "OTHER",
            "info": self._machine,
            "resources": self._resources(),
        }

    def _resources(self) -> dict:
        """The published document's `resources` (newer nodes list the images and resource volumes they hold):
        the job's images, and the shared resource caches on this engine."""
        images = sorted({image for op in self.plan.ops for image in op.images})
        try:
            volumes = list(self.engine.caches())
        except Exception:  # the engine went away: the images still answer
            volumes = []
        return {"images": images, "volumes": volumes}

    # -- reports -------------------------------------------------------------------------

    def local_status(self, log_lines: int = LOG_LINES) -> dict:
        """What the status page shows: each op with group, states, health, exit code, URLs, last log lines."""
        statuses = self.view.statuses()
        active = self.view.active_group(statuses)
        words = self.view.ops(statuses)
        return {
            "job": self.plan.project,
            "current_group": active.name if active is not None else None,
            "groups": [g.name for g in self.plan.groups],
            "ops": [
                {
                    "id": s.op.id,
                    "group": s.op.group,
                    "state": s.state,
                    "status": words[s.op.id],
                    "health": s.health or None,
                    "exit_code": s.exit_code,
                    "urls": s.urls(),
                    "reason": s.reason or None,
                    "logs": self.engine.log_tail(s.op.service, log_lines) if s.state != PENDING else [],
                }
                for s in statuses
            ],
        }


def _logs(s: OpStatus, stamped: list[tuple[str, str, str]], ran: bool) -> list[dict]:
    """The op's log entries as the node keeps them: each with the RFC 3339 time Docker stamped on its line (the
    node follows logs with timestamps), the last MAX_LOGS; a failure before it ran is one `nodeerr` entry, which
    on the node carries no time."""
    logs = [{"type": stream, "log": text, "timestamp": at} for stream, text, at in stamped[-MAX_LOGS:]]
    if s.state == FAILED and not ran and s.reason:
        logs.append({"type": "nodeerr", "log": s.reason, "timestamp": ""})
    return logs
