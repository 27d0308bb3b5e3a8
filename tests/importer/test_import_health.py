"""Healthcheck tests -> a node's http checks: which forms are understood, and why others are not."""

from __future__ import annotations

import pytest

from nos2compose.diagnostics import Diagnostics
from nos2compose.importer.health import NotHttp, apply_healthcheck, check_for, http_probe
from nos2compose.importer.model import DraftOp, Exposed


def check(test: list[str], names=frozenset()) -> tuple[int, dict]:
    return check_for(http_probe(test), set(names))


def plain(path="/", method="GET", **extra) -> dict:
    return {"type": "http", "path": path, "method": method, "expected_status": 200, **extra, "continuous": True}


@pytest.mark.parametrize(
    "test, port, expected",
    [
        (["CMD", "curl", "-f", "http://localhost:8080/health"], 8080, plain("/health")),
        (["CMD", "curl", "--fail", "http://127.0.0.1/"], 80, plain("/")),
        (["CMD", "curl", "-sf", "http://0.0.0.0:3000"], 3000, plain("/")),
        (["CMD", "curl", "-fsS", "http://[::1]:9000/v1/models"], 9000, plain("/v1/models")),
        (["CMD-SHELL", "curl -f http://localhost:8000/ || exit 1"], 8000, plain("/")),
        (
            ["CMD-SHELL", "curl -fsS http://localhost:8000/ready?deep=1 > /dev/null 2>&1 || exit"],
            8000,
            plain("/ready?deep=1"),
        ),
        (
            ["CMD-SHELL", "curl -X PUT --header 'X-A: 1' -H \"X-B: two words\" -f http://localhost:81/p"],
            81,
            plain("/p", "PUT", headers={"X-A": "1", "X-B": "two words"}),
        ),
        (["CMD", "curl", "-f", "--request", "DELETE", "http://localhost:82/x"], 82, plain("/x", "DELETE")),
        (
            ["CMD", "curl", "-f", "-d", '{"q": 1}', "http://localhost:83/search"],
            83,
            plain("/search", "POST", body='{"q": 1}'),
        ),
        (
            ["CMD", "curl", "-f", "-u", "admin:pw", "http://localhost:84/"],
            84,
            plain("/", headers={"Authorization": "Basic YWRtaW46cHc="}),
        ),
        (["CMD", "curl", "-fI", "http://localhost:85/"], 85, plain("/")),  # HEAD: a node's checks send GET
        (
            ["CMD", "curl", "-f", "-m", "5", "--connect-timeout", "2", "--retry", "3", "http://localhost:86/"],
            86,
            plain("/"),
        ),
        (["CMD", "/usr/bin/curl", "-f", "localhost:87/no-scheme"], 87, plain("/no-scheme")),
        (["CMD", "wget", "--spider", "http://localhost:8080/"], 8080, plain("/")),
        (["CMD", "wget", "--no-verbose", "--tries=1", "--spider", "http://localhost:8080/up"], 8080, plain("/up")),
        (["CMD", "wget", "-qO-", "http://localhost:9090/"], 9090, plain("/")),
        (["CMD", "wget", "-q", "-O", "-", "http://127.0.0.1:9091/x"], 9091, plain("/x")),
        (["CMD", "wget", "-qO", "/dev/null", "-T", "3", "http://localhost:9092/"], 9092, plain("/")),
        (
            ["CMD-SHELL", "wget -q --spider --header='X-Probe: 1' http://localhost:9093/ || exit 1"],
            9093,
            plain("/", headers={"X-Probe": "1"}),
        ),
        (["CMD", "sh", "-c", "curl -f http://localhost:9094/"], 9094, plain("/")),
        (["CMD", "/bin/bash", "-c", "wget --spider -q http://localhost:9095/ok"], 9095, plain("/ok")),
    ],
)
def test_understood_forms(test, port, expected):
    assert check(test) == (port, expected)


def test_the_services_own_name_is_the_container_itself():
    assert check(["CMD", "curl", "-f", "http://web:8000/"], {"web"})[0] == 8000


@pytest.mark.parametrize(
    "test, reason",
    [
        (["CMD-SHELL", "pg_isready -U postgres"], "it runs pg_isready"),
        (["CMD", "ollama", "list"], "it runs ollama"),
        (["CMD-SHELL", "curl -f http://localhost:8080/health | jq .ok"], "more than one call"),
        (["CMD-SHELL", "curl -f http://localhost:8080/ && echo ok"], "more than one call"),
        (["CMD-SHELL", "curl -f http://localhost:$PORT/"], "a variable"),
        (["CMD-SHELL", "curl -f http://localhost:$(cat /port)/"], "a variable or substitution"),
        (["CMD", "curl", "-f", "http://api:8000/"], "asks host api"),
        (["CMD", "curl", "-f", "https://localhost/"], "over https"),
        (["CMD", "curl", "-f", "-X", "PATCH", "http://localhost/"], "cannot send PATCH"),
        (["CMD", "curl", "-f", "--unix-socket", "/run/s.sock", "http://localhost/"], "--unix-socket"),
        (["CMD", "curl", "-f", "--frobnicate", "http://localhost/"], "--frobnicate is not one"),
        (["CMD", "curl", "-f", "-d", "@body.json", "http://localhost/"], "a file as the body"),
        (["CMD", "curl", "-f"], "0 URLs"),
        (["CMD", "curl", "-f", "http://localhost/a", "http://localhost/b"], "2 URLs"),
        (["CMD", "wget", "-Y", "on", "http://localhost/"], "proxy"),
        (["CMD", "curl", "-f", "-H", "no colon", "http://localhost/"], "is not 'Name: value'"),
        (["CMD-SHELL", "curl 'unterminated"], "does not parse"),
        (["CMD-SHELL", "NONE"], "it runs NONE"),  # `test: NONE` as a string is a shell command to Compose
    ],
)
def test_not_understood_forms(test, reason):
    with pytest.raises(NotHttp, match=reason.replace("$", r"\$").replace("(", r"\(").replace(")", r"\)")):
        check(test)


def test_curl_without_fail_and_with_redirects_is_noted():
    probe = http_probe(["CMD", "curl", "-sL", "http://localhost/"])
    assert [n.split(";")[0] for n in probe.notes] == [
        "curl follows redirects (-L)",
        "curl without --fail passes on any HTTP answer",
    ]


def _apply(hc: dict, exposed=(8080,)) -> tuple[DraftOp, Diagnostics]:
    op = DraftOp(id="web", image="x", expose=[Exposed(p) for p in exposed])
    diags = Diagnostics()
    apply_healthcheck("web", hc, op, {"web"}, diags)
    return op, diags


def test_a_check_lands_on_its_port_and_timing_is_warned_once():
    op, diags = _apply({"test": ["CMD", "curl", "-f", "http://localhost:8080/"], "interval": "10s", "retries": 3})
    assert op.expose[0].health_checks == [plain("/")]
    assert [(d.path, d.message.split(":")[0]) for d in diags.items] == [
        (("services", "web", "healthcheck", "interval"), "healthcheck interval, retries")
    ]


@pytest.mark.parametrize("hc", [{"disable": True}, {"test": ["NONE"]}])
def test_disabled_checks_give_nothing_and_say_nothing(hc):
    op, diags = _apply(hc)
    assert not op.has_health_checks and diags.items == [] and not op.has_compose_healthcheck


def test_a_port_that_is_not_exposed_is_warned():
    op, diags = _apply({"test": ["CMD", "curl", "-f", "http://localhost:9999/"]})
    assert not op.has_health_checks
    assert "asks port 9999, which the service does not expose" in diags.items[0].message


def test_timing_without_a_test_is_about_the_images_own_check():
    _, diags = _apply({"interval": "5s"})
    assert "image's own HEALTHCHECK" in diags.items[0].message
