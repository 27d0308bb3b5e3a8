"""OpenSSH public keys, as `ssh.public_keys` in a job and the node API's SSH routes take them.

One checker for both: `validate` warns about a job's entry that is not one (the network's validators only
check that it is a string), and `POST /job/<id>/ssh/authorize` refuses it. A key is `TYPE BASE64 [COMMENT]`
(an authorized_keys line without options); the base64 blob must decode and start with its own type name,
as `ssh-keygen -l` checks.
"""

from __future__ import annotations

import base64
import binascii
import struct
from typing import NamedTuple

KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-dss",
)
MAX_LENGTH = 16_384  # an RSA key of 16,384 bits is under 3 KB: anything much longer is not a key


class PublicKey(NamedTuple):
    type: str
    blob: str  # base64, as given
    comment: str  # "" when there is none

    @property
    def text(self) -> str:
        return f"{self.type} {self.blob}" + (f" {self.comment}" if self.comment else "")


class NotAKey(ValueError):
    """The text is not an OpenSSH public key; the message says why, in a few words."""


def parse(text: object) -> PublicKey:
    """The key `text` holds; NotAKey when it holds none."""
    if not isinstance(text, str):
        raise NotAKey("not a string")
    if len(text) > MAX_LENGTH:
        raise NotAKey(f"longer than {MAX_LENGTH} characters")
    if "\n" in text.strip() or "\r" in text.strip():
        raise NotAKey("more than one line")
    parts = text.strip().split(None, 2)
    if len(parts) < 2:
        raise NotAKey("expected TYPE BASE64 [COMMENT], e.g. ssh-ed25519 AAAAC3Nza... you@host")
    kind, blob = parts[0], parts[1]
    if kind not in KEY_TYPES:
        if "PRIVATE KEY" in text:
            raise NotAKey("this is a private key: give the public one (the .pub file)")
        raise NotAKey(f"unknown key type {kind[:40]!r} (expected one of {', '.join(KEY_TYPES[:3])}, ...)")
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        raise NotAKey("its key data is not base64") from None
    if len(raw) < 4:
        raise NotAKey("its key data is too short")
    (length,) = struct.unpack(">I", raw[:4])
    if raw[4 : 4 + length] != kind.encode():
        raise NotAKey(f"its key data is not a {kind} key")
    if kind == "ssh-ed25519" and len(raw) != 4 + length + 4 + 32:
        raise NotAKey("its key data is not a whole ed25519 key")
    return PublicKey(kind, blob, parts[2].strip() if len(parts) > 2 else "")


def problem(text: object) -> str | None:
    """Why `text` is not an OpenSSH public key, or None when it is one."""
    try:
        parse(text)
    except NotAKey as exc:
        return str(exc)
    return None
