"""The SSH keys a local job grants (`POST /job/<id>/ssh/authorize`, `GET`/`DELETE /job/<id>/ssh/keys`), in the
node's shapes. Keys are checked as OpenSSH public keys (ssh_keys.py, the checker `validate` uses too) and kept in
the job's state record while the job lives, so a restarted `serve` still lists them; `down` forgets them.

A local run starts no SSH server: the keys are listed as given, and `/terminal` and `nos2compose shell` are the
way into an op (README, "The node API, locally").
"""

from __future__ import annotations

from datetime import datetime, timezone

from .. import ssh_keys
from ..supervisor import record

SSH_USER = "nosana"  # the node's: the host name, not the user, tells jobs and ops apart


class KeyRefused(ValueError):
    """A request the node refuses with 400; the message says why."""


def _expiry(value) -> str | None:
    """The request's expiresAt (RFC 3339, in the future) as given; None when absent."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise KeyRefused("expiresAt must be an RFC 3339 date-time, e.g. 2030-01-01T00:00:00Z")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise KeyRefused(f"expiresAt is not an RFC 3339 date-time: {value[:60]!r}") from None
    if when.tzinfo is None:
        raise KeyRefused("expiresAt needs a time zone (e.g. Z)")
    if when <= datetime.now(timezone.utc):
        raise KeyRefused("expiresAt is in the past")
    return value


def _key(body) -> str:
    text = body.get("sshPublicKey") if isinstance(body, dict) else None
    if text is None:
        raise KeyRefused("sshPublicKey is required: one OpenSSH public key line (TYPE BASE64 [COMMENT])")
    why = ssh_keys.problem(text)
    if why is not None:
        raise KeyRefused(f"sshPublicKey is not an OpenSSH public key: {why}")
    return text.strip()


def _same(a: str, b: str) -> bool:
    """The same key whatever its comment: type and key data."""
    return ssh_keys.parse(a)[:2] == ssh_keys.parse(b)[:2]


class JobKeys:
    """The job's granted keys in its state record (`ssh_keys`: [{sshPublicKey, expiresAt?}])."""

    def __init__(self, project: str):
        self.project = project

    def listed(self) -> dict:
        """The node's SshKeys: the keys as given (comment included), expired ones left out."""
        now = datetime.now(timezone.utc)
        keys = [k for k in (record.read(self.project) or {}).get("ssh_keys") or [] if _live(k, now)]
        return {"job": self.project, "sshUser": SSH_USER, "keys": keys}

    def authorize(self, body) -> dict:
        """Grant a key (again: its expiry and comment are replaced); the node's SshAuthorization."""
        text, expires = _key(body), _expiry(body.get("expiresAt"))
        entry = {"sshPublicKey": text, **({"expiresAt": expires} if expires else {})}

        def change(data: dict) -> None:
            kept = [k for k in data.get("ssh_keys") or [] if not _same(k["sshPublicKey"], text)]
            data["ssh_keys"] = kept + [entry]

        record.update(self.project, change)
        return {
            "job": self.project,
            "sshUser": SSH_USER,
            "authorized": True,
            **({"expiresAt": expires} if expires else {}),
        }

    def revoke(self, body) -> dict | None:
        """Remove a key whatever its expiry; None when the job has no such key."""
        text = _key(body)
        found = []

        def change(data: dict) -> None:
            keys = data.get("ssh_keys") or []
            found.extend(k for k in keys if _same(k["sshPublicKey"], text))
            data["ssh_keys"] = [k for k in keys if not _same(k["sshPublicKey"], text)]

        record.update(self.project, change)
        return {"job": self.project, "sshUser": SSH_USER, "revoked": True} if found else None


def _live(key: dict, now: datetime) -> bool:
    expires = key.get("expiresAt")
    if not expires:
        return True
    try:
        return datetime.fromisoformat(expires.replace("Z", "+00:00")) > now
    except ValueError:
        return True
