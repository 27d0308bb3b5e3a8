"""load/job.py: the job's top level (version, type, meta, global, logistics, ssh) and read_job putting the ops
together: groups in order of first appearance, logins, and what literals may name."""

from __future__ import annotations

from nos2compose.diagnostics import Diagnostics
from nos2compose.load.job import read_job
from nos2compose.model import RunOp, VolumeOp


def run_op(op_id: str, group: str | None = None, **args) -> dict:
    raw = {"type": "container/run", "id": op_id, "args": {"image": "x", **args}}
    if group is not None:
        raw["execution"] = {"group": group}
    return raw


def load(data, strict: bool = False, services: dict | None = None):
    diags = Diagnostics(strict=strict)
    if services is None and isinstance(data, dict) and isinstance(data.get("ops"), list):
        services = {o["id"]: o["id"] for o in data["ops"] if isinstance(o, dict) and isinstance(o.get("id"), str)}
    return read_job(data, diags, "myjob", services or {}), diags


def job(*ops, **top) -> dict:
    return {"version": "0.1", "type": "container", **top, "ops": list(ops)}


def said(diags: Diagnostics) -> list[tuple]:
    return [(d.severity, d.path, d.message) for d in diags.items]


def test_a_minimal_job_is_its_ops_and_groups_under_the_local_name():
    loaded, diags = load(job(run_op("a")))
    assert loaded.job.name == "myjob"
    assert [o.id for o in loaded.job.ops] == ["a"] and loaded.job.groups == ("a",)
    assert loaded.logins == () and said(diags) == []


def test_groups_run_in_order_of_first_appearance():
    loaded, _ = load(job(run_op("a", "late"), run_op("b", "early"), run_op("c", "late"), run_op("d")))
    assert loaded.job.groups == ("late", "early", "d")
    assert loaded.job.run_ops_by_group() == {
        "late": [loaded.job.ops[0], loaded.job.ops[2]],
        "early": [loaded.job.ops[1]],
        "d": [loaded.job.ops[3]],
    }


def test_a_job_that_is_not_an_object_or_has_no_ops_list_is_not_read():
    assert load(["ops"])[0] is None
    loaded, diags = load({"version": "0.1", "type": "container"})
    assert loaded is None and said(diags)[-1] == ("error", (), "missing required key 'ops' (the job's operations)")
    loaded, diags = load({"version": "0.1", "type": "container", "ops": {"a": {}}})
    assert loaded is None and said(diags) == [("error", ("ops",), "expected an array of operations, found an object")]


def test_an_op_that_cannot_be_read_is_left_out_and_the_others_kept():
    loaded, diags = load(job(run_op("a"), {"type": "container/run", "id": "b"}, run_op("c")))
    assert [o.id for o in loaded.job.ops] == ["a", "c"]
    assert said(diags) == [("error", ("ops", 1), "missing required key 'args' (the op's arguments)")]


def test_version_other_than_0_1_is_a_strict_rule_and_must_be_text():
    _, diags = load({"type": "container", "ops": []})
    assert said(diags) == [("warning", (), "missing 'version'; read as \"0.1\"")]
    _, diags = load(job(version="0.2"), strict=True)
    assert said(diags) == [
        ("error", ("version",), 'version is "0.2", Nosana knows only "0.1" (Nosana\'s validator rejects this)')
    ]
    _, diags = load(job(version=0.1))
    assert said(diags) == [("error", ("version",), 'expected a string ("0.1"), found 0.1')]


def test_type_must_be_container():
    _, diags = load({"version": "0.1", "type": "docker", "ops": []})
    assert said(diags) == [("error", ("type",), 'expected one of "container", found "docker"')]
    _, diags = load({"version": "0.1", "ops": []})
    assert said(diags) == [("error", (), "missing required key 'type' (the job type, \"container\")")]


def test_unknown_top_level_keys_are_warned_about():
    _, diags = load(job(name="x"))
    assert [(d.severity, d.path) for d in diags.items] == [("warning", ("name",))]


def test_global_values_are_the_fallbacks_of_every_op():
    g = {"image": "g", "gpu": True, "entrypoint": "/init", "env": {"A": "1"}, "work_dir": "/w", "variables": {"V": "v"}}
    loaded, diags = load(job(run_op("a", cmd="echo %%global.variables.V%%"), **{"global": g}))
    (op,) = loaded.job.ops
    assert (op.image, op.gpu, op.entrypoint, op.work_dir) == ("x", True, ("/init",), "/w")
    assert op.env == (("A", "1"), ("NOSANA_ID", "myjob")) and op.cmd == ("/bin/sh", "-c", "echo v")
    assert not diags.items


def test_an_unknown_global_key_is_warned_about():
    _, diags = load(job(run_op("a"), **{"global": {"image": "g", "timezone": "UTC"}}))
    assert [(d.severity, d.path) for d in diags.items] == [("warning", ("global", "timezone"))]


def test_a_wrongly_typed_global_value_is_an_error_and_no_fallback():
    data = job({"type": "container/run", "id": "a", "args": {}}, **{"global": {"image": 5, "gpu": "yes"}})
    loaded, diags = load(data)
    assert loaded.job.ops == ()  # no image to fall back on
    assert [(d.path, d.message) for d in diags.errors] == [
        (("global", "image"), "expected a string, found 5"),
        (("global", "gpu"), 'expected true or false, found "yes"'),
        (("ops", 0, "args"), "missing required key 'image' (and no global.image to fall back on)"),
    ]


def test_meta_is_free_form_but_trigger_and_system_resources_are_checked():
    meta = {"trigger": 1, "system_resources": {"required_vram": 24, "gpu": True}, "nested": {"a": {"b": 1}}}
    _, diags = load(job(meta=meta))
    assert said(diags) == [
        ("error", ("meta", "trigger"), "expected a string, found 1"),
        ("error", ("meta", "system_resources", "gpu"), "expected a string or a number, found true"),
        (
            "warning",
            ("meta", "nested"),
            "@nosana/types wants a string, a number, an array of those, or an object of those here "
            "(the node reads no meta); kept as it is",
        ),
    ]
    _, diags = load(job(meta={"trigger": "cli", "required_cuda": ["12.1"], "tags": {"a": "b"}}))
    assert said(diags) == []


def test_logistics_are_checked_then_set_aside():
    logistics = {"send": {"type": "api", "args": {"endpoint": "https://e"}}, "receive": {"type": "ftp", "args": {}}}
    _, diags = load(job(logistics=logistics))
    assert said(diags) == [
        ("error", ("logistics", "receive", "type"), 'expected one of "api", "api-listen", found "ftp"'),
        (
            "warning",
            ("logistics",),
            "logistics (how a confidential job's ops and results travel) has no local equivalent; ignored",
        ),
    ]
    _, diags = load(job(logistics={}))
    assert [d.message.split(",")[0] for d in diags.items[:2]] == [
        "logistics without 'send'",
        "logistics without 'receive'",
    ]


ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHf94teeN3ied6NmPW1Ld2fTJE8X9bE/FyFHMr82PxfM me@host"


def test_ssh_is_a_strict_rule_and_said_to_be_not_set_up_locally():
    _, diags = load(job(ssh={"public_keys": [ED25519]}))
    assert [d.message.split(";")[0] for d in diags.items] == [
        "ssh is in Nosana's schema, but its validator rejects it",
        "ssh access is not set up locally",
    ]
    _, diags = load(job(ssh={"public_keys": "one"}), strict=True)
    assert [d.path for d in diags.errors] == [("ssh",), ("ssh", "public_keys")]


def test_an_ssh_entry_that_is_not_an_openssh_public_key_is_a_warning_even_with_strict():
    keys = [
        ED25519,
        "ssh-ed25519 AAAA",
        "-----BEGIN OPENSSH PRIVATE KEY----- b3Blbn",
        ED25519.replace("ed25519", "rsa"),
    ]
    for strict in (False, True):
        _, diags = load(job(ssh={"public_keys": keys}), strict=strict)
        found = [
            (d.path, d.message.split(": no ssh")[0]) for d in diags.warnings if d.path[:2] == ("ssh", "public_keys")
        ]
        assert found == [
            (("ssh", "public_keys", 1), "not an OpenSSH public key (its key data is too short)"),
            (
                ("ssh", "public_keys", 2),
                "not an OpenSSH public key (this is a private key: give the public one (the .pub file))",
            ),
            (("ssh", "public_keys", 3), "not an OpenSSH public key (its key data is not a ssh-rsa key)"),
        ]
        assert not [d for d in diags.errors if d.path[:2] == ("ssh", "public_keys")]  # the network takes any string


def test_deployment_id_must_be_text():
    _, diags = load(job(deployment_id=12))
    assert said(diags) == [("error", ("deployment_id",), "expected a string, found 12")]


def test_logins_of_every_op_are_gathered():
    auth = {"docker": {"username": "u", "password": "p"}}
    loaded, _ = load(job(run_op("a", image="ghcr.io/o/a", authentication=auth), run_op("b", authentication=auth)))
    assert [(login.op, login.server) for login in loaded.logins] == [("a", "ghcr.io"), ("b", None)]


def test_literals_may_name_results_ports_and_groups_of_ops_read_later():
    """What literals can name comes from the raw ops up front, so an op may name one that appears after it."""
    data = job(
        run_op("prep", "one", cmd="x"),
        run_op("app", "two", env={"URL": "%%ops.web.endpoint.80%%", "R": "%%ops.prep.results.k%%"}),
        run_op("web", "two", expose=[80, "%%global.variables.P%%"]),
    )
    data["ops"][0]["results"] = {"k": "v=(.*)"}
    loaded, diags = load(data, services={"prep": "prep", "app": "app", "web": "web-svc"})
    app = loaded.job.ops[1]
    assert dict(app.env)["URL"] == "web-svc:80"
    assert loaded.literals.group_order == {"prep": 0, "app": 1, "web": 1}
    assert loaded.literals.result_keys == {"prep": {"k"}}
    assert loaded.literals.exposed == {"prep": set(), "app": set(), "web": {"80"}}
    assert not diags.errors


def test_a_create_volume_op_is_read_beside_the_run_ops():
    data = job({"type": "container/create-volume", "id": "v", "args": {"name": "data"}}, run_op("a"))
    loaded, _ = load(data)
    assert isinstance(loaded.job.ops[0], VolumeOp) and isinstance(loaded.job.ops[1], RunOp)
    assert loaded.job.run_ops == (loaded.job.ops[1],)
