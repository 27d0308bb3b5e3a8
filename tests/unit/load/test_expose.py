"""load/expose.py: every form of `expose` (number, object, array, range, literal, spread) and its health checks."""

from __future__ import annotations

import pytest

from nos2compose.diagnostics import Diagnostics
from nos2compose.load.expose import check_raw_expose, expose_from, read_expose
from nos2compose.load.shape import Shape
from nos2compose.model import Expose, HttpCheck, Placeholder, Template, WebSocketCheck

PATH = ("ops", 0, "args", "expose")


def read(raw, strict: bool = False):
    diags = Diagnostics(strict=strict)
    return read_expose(Shape(diags), raw, PATH, "web"), diags


def check_raw(raw, strict: bool = False) -> Diagnostics:
    diags = Diagnostics(strict=strict)
    check_raw_expose(Shape(diags), raw, PATH, "web")
    return diags


def http(**fields) -> dict:
    return {"type": "http", "path": "/", "method": "GET", "expected_status": 200, "continuous": False, **fields}


def one_check(check: dict, strict: bool = False):
    """The single health check read from `{port: 80, health_checks: [check]}`, and the diagnostics."""
    exposed, diags = read({"port": 80, "health_checks": [check]}, strict)
    return (exposed[0].health_checks or (None,))[0], diags


# --- ports ---------------------------------------------------------------------------------------------------


def test_a_number_an_object_and_an_array_of_both():
    assert read(80)[0] == (Expose(80),)
    assert read({"port": 3000, "type": "web"})[0] == (Expose(3000, "web"),)
    exposed, diags = read([80, {"port": 443, "type": "api"}])
    assert exposed == (Expose(80), Expose(443, "api")) and not diags.items


def test_digits_as_text_are_a_port_because_a_literals_value_is_text():
    assert read(["8080"])[0] == (Expose(8080),)


@pytest.mark.parametrize("port", [0, 65536, -1, 80.5])
def test_a_port_outside_1_to_65535_is_an_error(port):
    exposed, diags = read([port])
    assert exposed == ()
    (error,) = diags.errors
    assert error.path == (*PATH, 0) and error.message.startswith("expected a port (a whole number from 1 to 65535)")


def test_a_port_exposed_twice_is_an_error_at_the_second():
    exposed, diags = read([80, {"port": 80, "type": "web"}])
    assert exposed == (Expose(80),)
    assert [(d.path, d.message) for d in diags.errors] == [
        ((*PATH, 1), "port 80 is exposed twice by this op (ports must be unique)")
    ]


def test_a_range_is_one_exposed_entry_covering_every_port():
    """ "8000-8010": @nosana/sdk and the node accept it and publish it whole."""
    exposed, _ = read(["8000-8010", "9000-9000"])
    assert exposed == (Expose(8000, None, (), 8010), Expose(9000))
    assert exposed[0].count == 11


def test_a_range_is_a_strict_rule_in_the_raw_job():
    (warning,) = check_raw(["8000-8010"]).items
    assert not warning.is_error and warning.path == (*PATH, 0)
    assert "@nosana/types rejects" in warning.message and warning.message.endswith("published whole")
    assert check_raw(["8000-8010"], strict=True).has_errors()


def test_a_port_inside_a_range_already_exposed_is_exposed_twice():
    _, diags = read(["8000-8010", 8005])
    assert [d.message for d in diags.errors] == ["port 8005 is exposed twice by this op (ports must be unique)"]
    _, diags = read([8005, "8000-8010"])  # and a range covering a port already exposed
    assert [d.message for d in diags.errors] == ["port 8005 is exposed twice by this op (ports must be unique)"]


def test_a_backwards_or_too_high_range_is_an_error():
    for text in ("9000-8000", "65535-65536", "0-10"):
        exposed, diags = read([text])
        assert exposed == ()
        assert diags.errors[0].message.startswith("expected a port range FIRST-LAST with 1 <= FIRST <= LAST <= 65535")


def test_a_range_as_an_object_port_keeps_its_type_and_sets_its_checks_aside():
    exposed, diags = read({"port": "8000-8001", "type": "api", "health_checks": [http()]})
    assert exposed == (Expose(8000, "api", (), 8001),)
    (warning,) = diags.warnings
    assert warning.path == (*PATH, "health_checks")
    assert warning.message.startswith("health checks on a port range are not run locally")


def test_literals_and_spread_markers_are_left_for_later():
    """Their ports are known only when the op starts (`up` splices them); read_expose publishes none of them."""
    exposed, diags = read(
        [80, "%%ops.a.results.p%%", {"__spread__": "%%ops.a.results.q%%"}, Template([Placeholder("a", "p", "items")])]
    )
    assert exposed == (Expose(80),) and not diags.items


def test_an_item_a_literal_left_without_a_port_is_an_error_once():
    """A literal resolving to text or null: one error, unless the raw check has already reported that item."""
    exposed, diags = read(["x", None])
    assert exposed == ()
    assert [d.message for d in diags.errors] == [
        'expected a port number (the literal\'s value is none), found "x"',
        "expected a port number (the literal's value is none), found null",
    ]
    diags = check_raw(["x"])
    read_expose(Shape(diags), ["x"], PATH, "web")
    assert len(diags.errors) == 1


def test_the_raw_job_may_hold_only_literals_where_it_holds_text():
    diags = check_raw(["80", "%%global.variables.PORT%%", True, [80], {}])
    assert [(d.path[-1], d.message) for d in diags.errors] == [
        (0, 'expected a port number (or a literal such as %%global.variables.PORT%%), found "80"'),
        (2, "expected a port number, {port, type?, health_checks?}, or a literal, found true"),
        (3, "expected a port number, {port, type?, health_checks?}, or a literal, found an array"),
        (4, "expected a port number, {port, type?, health_checks?}, or a literal, found an object"),
    ]


def test_a_spread_marker_must_hold_a_literal_and_a_boolean_chunked():
    diags = check_raw([{"__spread__": "[80]", "chunked": "yes", "extra": 1}])
    assert [(d.severity, d.path) for d in diags.items] == [
        ("warning", (*PATH, 0, "extra")),
        ("error", (*PATH, 0, "__spread__")),
        ("error", (*PATH, 0, "chunked")),
    ]
    lone = {"__spread__": "%%ops.a.results.p%%", "chunked": True}
    assert check_raw(lone).items == []  # a well-formed marker
    # but alone, the node merges it as an object: NOS912, from the literal's resolution, which knows the value
    from nos2compose.compiler import Options, compile_job

    job = {
        "version": "0.1",
        "type": "container",
        "ops": [
            {"type": "container/run", "id": "a", "args": {"image": "x"}, "results": {"p": "p=(.*)"}},
            {"type": "container/run", "id": "b", "args": {"image": "x", "expose": lone}},
        ],
    }
    assert "NOS912" in [d.code for d in compile_job(job, Options(name="j")).diagnostics.items]


def test_expose_from_lists_each_result_spliced_as_ports_once():
    text = Template([Placeholder("a", "p", "text")])
    chunks = Template([Placeholder("a", "q", "items_chunked")])
    assert expose_from([80, text, chunks, text]) == (
        Placeholder("a", "p", "items"),
        Placeholder("a", "q", "items_chunked"),
    )
    assert expose_from(80) == ()


def test_an_expose_object_needs_a_port_and_a_known_type():
    exposed, diags = read([{"type": "web"}, {"port": 81, "type": "grpc"}])
    assert exposed == (Expose(81),)  # a bad type is reported; the port is still read (later checks see it)
    assert [(d.path, d.message) for d in diags.errors] == [
        ((*PATH, 0), "missing required key 'port' (the container port)"),
        ((*PATH, 1, "type"), 'expected one of "api", "web", "webapi", "websocket", "none", found "grpc"'),
    ]


# --- health checks -------------------------------------------------------------------------------------------


def test_an_http_check_is_read_whole():
    check, diags = one_check(
        http(method="POST", path="/ready", expected_status=401, headers={"X-A": "1"}, body="hi", continuous=True)
    )
    assert check == HttpCheck("/ready", "POST", 401, (("X-A", "1"),), "hi", True)
    assert not diags.items


def test_a_body_is_sent_for_post_and_put_only_and_non_text_as_compact_json():
    check, _ = one_check(http(method="PUT", body={"k": ["v", 1], "é": True}))
    assert check.body == '{"k":["v",1],"é":true}'
    check, _ = one_check(http(method="GET", body="ignored"))
    assert check.body is None


def test_a_check_without_continuous_is_read_as_false_a_strict_rule():
    check, diags = one_check({"type": "http", "path": "/", "method": "GET", "expected_status": 200})
    assert check.continuous is False
    assert diags.warnings[0].message == "health check without 'continuous'; read as false"
    _, diags = one_check({"type": "websocket", "expected_response": "ok"}, strict=True)
    assert diags.errors[0].path == (*PATH, "health_checks", 0)


def test_every_missing_http_field_is_reported_at_once():
    check, diags = one_check({"type": "http", "continuous": False})
    assert check is None
    assert [d.message.split(" (")[0] for d in diags.errors] == [
        "missing required key 'path'",
        "missing required key 'method'",
        "missing required key 'expected_status'",
    ]


@pytest.mark.parametrize(
    ("fields", "where", "says"),
    [
        ({"method": "PATCH"}, "method", 'expected one of "GET", "POST", "PUT", "DELETE", found "PATCH"'),
        ({"expected_status": 99}, "expected_status", "expected an HTTP status (a whole number from 100 to 599)"),
        ({"headers": {"A": 1}}, ("headers", "A"), "expected a string, found 1"),
        ({"path": 5}, "path", "expected a string, found 5"),
    ],
)
def test_a_wrong_http_field_drops_the_check_with_an_error_at_the_field(fields, where, says):
    check, diags = one_check(http(**fields))
    assert check is None
    (error,) = diags.errors
    assert error.path == (*PATH, "health_checks", 0, *((where,) if isinstance(where, str) else where))
    assert error.message.startswith(says)


def test_a_websocket_check_needs_expected_response_and_takes_no_http_keys():
    check, diags = one_check({"type": "websocket", "expected_response": "pong", "continuous": True, "path": "/"})
    assert check == WebSocketCheck("pong", True)
    assert [d.path for d in diags.warnings] == [(*PATH, "health_checks", 0, "path")]  # unknown for a websocket
    check, diags = one_check({"type": "websocket", "continuous": False})
    assert check is None and "expected_response" in diags.errors[0].message


def test_a_check_of_an_unknown_type_or_shape_is_an_error():
    exposed, diags = read({"port": 80, "health_checks": [{"type": "tcp"}, "GET /", {}]})
    assert exposed == (Expose(80),)
    assert [d.path for d in diags.errors] == [
        (*PATH, "health_checks", 0, "type"),
        (*PATH, "health_checks", 1),
        (*PATH, "health_checks", 2),
    ]
    _, diags = read({"port": 80, "health_checks": {"type": "http"}})
    assert diags.errors[0].message == "expected an array of health checks, found an object"
