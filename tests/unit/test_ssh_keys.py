"""The OpenSSH public key checker shared by `validate` (ssh.public_keys) and the API's SSH routes."""

from __future__ import annotations

import base64
import shutil
import subprocess

import pytest
from helpers import need

from nos2compose import ssh_keys

# made once with ssh-keygen (public halves only)
ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHf94teeN3ied6NmPW1Ld2fTJE8X9bE/FyFHMr82PxfM me@host"


def test_a_real_key_parses_with_its_comment():
    key = ssh_keys.parse(ED25519 + "\n")
    assert (key.type, key.comment) == ("ssh-ed25519", "me@host")
    assert key.text == ED25519
    assert ssh_keys.problem(ED25519) is None
    assert ssh_keys.problem(ED25519.rsplit(" ", 1)[0]) is None  # no comment


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (42, "not a string"),
        ("", "expected TYPE BASE64"),
        ("ssh-ed25519", "expected TYPE BASE64"),
        ("ssh-foo AAAA", "unknown key type"),
        ("ssh-ed25519 not*base64", "not base64"),
        ("ssh-rsa " + ED25519.split()[1], "not a ssh-rsa key"),
        ("ssh-ed25519 " + base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519\x00").decode(), "not a whole ed25519 key"),
        ("-----BEGIN OPENSSH PRIVATE KEY----- abc", "private key"),
        (ED25519 + "\n" + ED25519, "more than one line"),
        ("ssh-ed25519 " + "A" * 20_000, "longer than"),
    ],
)
def test_what_is_not_a_key_says_why(text, why):
    assert why in ssh_keys.problem(text)


@pytest.mark.parametrize("kind", ["ed25519", "rsa", "ecdsa"])
def test_keys_ssh_keygen_makes_are_keys(tmp_path, kind):
    need("ssh-keygen (Debian's openssh-client)", shutil.which("ssh-keygen") is not None)
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "a b", "-f", str(tmp_path / "k")], check=True)
    text = (tmp_path / "k.pub").read_text()
    assert ssh_keys.problem(text) is None
    assert ssh_keys.parse(text).comment == "a b"
    assert ssh_keys.problem((tmp_path / "k").read_text()) is not None  # the private half is refused
