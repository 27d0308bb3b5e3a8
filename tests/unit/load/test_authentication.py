"""load/authentication.py: `authentication.docker` becomes a registry login kept in memory; the password never
reaches a diagnostic or a repr."""

from __future__ import annotations

import pytest

from nos2compose.diagnostics import Diagnostics
from nos2compose.load.authentication import RegistryLogin, read_authentication, registry_of
from nos2compose.load.shape import Shape

PATH = ("ops", 0, "args", "authentication")
SECRET = "hunter2-PASSWORD"


def read(raw, image="ghcr.io/org/app:1", strict: bool = False):
    diags = Diagnostics(strict=strict)
    return read_authentication(Shape(diags), raw, PATH, "app", image), diags


def docker(**fields):
    return {"docker": {"username": "me", "password": SECRET, **fields}}


def test_a_login_for_the_registry_of_the_image():
    (login,), _ = read(docker())
    assert login == RegistryLogin("app", "ghcr.io", "me", SECRET)


def test_a_server_given_wins_over_the_images_registry_and_email_is_accepted():
    (login,), diags = read(docker(server="registry.example.com", email="me@example.com"))
    assert login.server == "registry.example.com"
    assert not [d for d in diags.items if "unknown key" in d.message]


def test_docker_hub_images_log_in_with_no_server():
    (login,), _ = read(docker(), image="org/app")
    assert login.server is None


@pytest.mark.parametrize(
    ("image", "server"),
    [
        ("nginx", None),
        ("library/nginx:1", None),
        ("ghcr.io/a/b", "ghcr.io"),
        ("localhost/app", "localhost"),
        ("localhost:5000/app", "localhost:5000"),
        ("myhost:5000/app", "myhost:5000"),
        ("registry/app", None),  # no dot, colon or localhost: a Docker Hub namespace
        (None, None),
    ],
)
def test_registry_of_reads_the_image_reference_as_docker_does(image, server):
    assert registry_of(image) == server


def test_the_password_is_never_shown_in_a_repr_or_a_diagnostic():
    logins, diags = read({"docker": {"username": "me", "password": SECRET, "token": "x"}, "other": 1})
    assert SECRET not in repr(logins[0]) and SECRET not in str(logins)
    assert "password=***" in repr(logins[0])
    assert diags.items and all(SECRET not in d.describe() for d in diags.items)


def test_up_logging_in_is_always_said_once_at_the_authentication_key():
    _, diags = read(docker())
    (warning,) = diags.items
    assert warning.path == PATH and not warning.is_error
    assert "`nos2compose up` logs in to the registry before the pull" in warning.message


def test_without_both_username_and_password_there_is_no_login():
    for fields in ({"username": "me"}, {"password": SECRET}, {"username": "", "password": SECRET}):
        logins, diags = read({"docker": fields})
        assert logins == () and not diags.has_errors()


def test_unknown_keys_are_warned_about_at_their_path():
    _, diags = read({"docker": {"username": "me", "password": SECRET, "registry": "x"}, "gcr": {}})
    assert [d.path for d in diags.items if "unknown key" in d.message] == [
        (*PATH, "gcr"),
        (*PATH, "docker", "registry"),
    ]


def test_authentication_and_docker_must_be_objects():
    logins, diags = read("me:pw")
    assert logins == () and diags.errors[0].path == PATH
    logins, diags = read({"docker": ["me"]})
    assert logins == () and diags.errors[0].path == (*PATH, "docker")


def test_a_field_of_the_wrong_type_is_an_error_and_no_login():
    logins, diags = read({"docker": {"username": 5, "password": SECRET}})
    assert logins == ()
    assert [(d.path, d.message) for d in diags.errors] == [
        ((*PATH, "docker", "username"), "expected a string, found 5")
    ]
