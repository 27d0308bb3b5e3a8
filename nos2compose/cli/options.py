"""Options several commands share: how a job is read, and how health checks and resources are handled."""

from __future__ import annotations

import re

import click


def job_options(func, many: bool = False):
    """The options every command that reads a job shares (`many`: one or more JOB arguments)."""
    options = [
        click.argument("jobs", nargs=-1, required=True, type=str) if many else click.argument("job", type=str),
        click.option(
            "--format",
            "fmt",
            type=click.Choice(["json", "yaml"]),
            default=None,
            help="Input format. Default: by file name (.yaml/.yml is YAML, else JSON); JSON for standard input.",
        ),
        click.option(
            "--name",
            default=None,
            metavar="NAME",
            help="Compose project name (the local job id). "
            "Default: the job file's name, normalized; 'job' for standard input.",
        ),
        click.option(
            "--strict",
            is_flag=True,
            help="Reject what Nosana's own validator rejects (unknown keys, ops without their own image, "
            "health checks without 'continuous', old fields, a version other than \"0.1\").",
        ),
        click.option("--error-on-warning", is_flag=True, help="Treat every warning as an error (exit 2)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def jobs_options(func):
    return job_options(func, many=True)


def _selectors(_ctx, param, values):
    from ..lint.selection import SelectorError, selectors

    try:
        return selectors(values)
    except SelectorError as exc:
        raise click.BadParameter(str(exc), param=param) from None


def lint_options(func):
    """What validate and convert report and how: lint selection (ruff's conventions) and output format."""
    codes = "a code (NOS101) or a prefix (NOS1, NOS); comma-separated or repeated"
    options = [
        click.option(
            "--output-format",
            type=click.Choice(["text", "json", "sarif", "github"]),
            default="text",
            show_default=True,
            help="How errors and warnings are written: lines on stderr; one JSON or SARIF 2.1.0 document on stdout; "
            "GitHub Actions annotations (docs/lints.md).",
        ),
        click.option(
            "--select",
            multiple=True,
            callback=_selectors,
            metavar="CODE",
            help=f"Show only these warnings: {codes}. Default: every rule but the opt-in ones (NOS401).",
        ),
        click.option(
            "--extend-select", multiple=True, callback=_selectors, metavar="CODE", help=f"Show these too: {codes}."
        ),
        click.option(
            "--ignore", multiple=True, callback=_selectors, metavar="CODE", help=f"Hide these warnings: {codes}."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def reporter_from(kw: dict, stderr: bool = False):
    """The Reporter the lint options stand for (pops them from a command's keyword arguments); lints on."""
    from ..lint.selection import Selection
    from .findings import Reporter

    select = kw.pop("select") or None
    selection = Selection(select, kw.pop("extend_select"), kw.pop("ignore"))
    return Reporter(kw.pop("output_format"), lint=True, selection=selection, stderr=stderr)


DURATION = r"^(\d+(\.\d+)?(ms|s|m|h))+$"


def _duration(_ctx, param, value):
    if value is not None and not re.match(DURATION, value):
        raise click.BadParameter(f"'{value}' is not a duration such as 1s, 500ms, 2m or 1h30m", param=param)
    return value


def _resource_dirs(_ctx, param, values):
    out = []
    for value in values:
        target, eq, directory = value.partition("=")
        if not eq or not target.startswith("/") or not directory:
            raise click.BadParameter(
                f"'{value}' is not TARGET=DIR (TARGET: the resource's absolute target in the container)", param=param
            )
        out.append((target, directory))
    return tuple(out)


PUBLISH = re.compile(r"^(?P<op>[^:=]+):(?P<port>\d{1,5})=(?P<host>\d{1,5})$")


def _publish(_ctx, param, values):
    out = []
    for value in values:
        m = PUBLISH.match(value)
        if not m or not (1 <= int(m["port"]) <= 65535 and 1 <= int(m["host"]) <= 65535):
            raise click.BadParameter(f"'{value}' is not OP:PORT=HOSTPORT (e.g. web:8080=18080)", param=param)
        out.append((m["op"], int(m["port"]), int(m["host"])))
    return tuple(out)


# How health checks are probed and timed, and how resources are fetched (convert and up share them).
RUN_OPTIONS = [
    click.option(
        "--health-probe",
        type=click.Choice(["container", "sidecar"]),
        default="container",
        show_default=True,
        help="Run each op's health checks inside its own container (needs sh plus curl, wget, python3, bash or nc "
        "in the image), or from a small sidecar service that probes it over the job's network, as a "
        "Nosana node does (for images with no shell, e.g. distroless).",
    ),
    click.option(
        "--probe-image",
        default="curlimages/curl:8.11.1",
        show_default=True,
        metavar="IMAGE",
        help="The sidecar's image (--health-probe sidecar): any image with sh and curl.",
    ),
    click.option(
        "--health-interval",
        default="1s",
        show_default=True,
        callback=_duration,
        metavar="DURATION",
        help="How often Docker probes (short, so a service that turns healthy is noticed within about 2 s).",
    ),
    click.option(
        "--health-timeout",
        default="10s",
        show_default=True,
        callback=_duration,
        metavar="DURATION",
        help="How long one probe may take.",
    ),
    click.option(
        "--health-retries",
        type=click.IntRange(min=1),
        default=3,
        show_default=True,
        metavar="N",
        help="Failures in a row, after start-up, that make a service unhealthy.",
    ),
    click.option(
        "--health-start-period",
        default="1h",
        show_default=True,
        callback=_duration,
        metavar="DURATION",
        help="Start-up time during which failures do not count (the node keeps probing without limit).",
    ),
    click.option(
        "--fetch-image",
        default="python:3.12-alpine",
        show_default=True,
        metavar="IMAGE",
        help="Image that fetches S3 and Hugging Face resources (any image with python3).",
    ),
    click.option(
        "--ollama-image",
        default=None,
        metavar="IMAGE",
        help="Image that pulls Ollama models (default: the op's own image, which runs Ollama).",
    ),
    click.option(
        "--resource-dir",
        "resource_dirs",
        multiple=True,
        callback=_resource_dirs,
        metavar="TARGET=DIR",
        help="Mount DIR, which already holds a resource, at TARGET instead of fetching it (repeatable).",
    ),
    click.option(
        "--publish",
        "publish",
        multiple=True,
        callback=_publish,
        metavar="OP:PORT=HOSTPORT",
        help="Publish op OP's exposed PORT on 127.0.0.1:HOSTPORT instead of the port chosen for it (repeatable).",
    ),
]


def health_options(func):
    """The run options (RUN_OPTIONS) on a command, in the order --help lists them."""
    for option in reversed(RUN_OPTIONS):
        func = option(func)
    return func


def probe_options(kw: dict) -> dict:
    """The compiler options the health flags stand for (pops them from a command's keyword arguments)."""
    from ..compose.layout import HealthTiming, PlanOptions

    timing = HealthTiming(
        kw.pop("health_interval"), kw.pop("health_timeout"), kw.pop("health_retries"), kw.pop("health_start_period")
    )
    plan = PlanOptions(
        health_probe=kw.pop("health_probe"),
        probe_image=kw.pop("probe_image"),
        timing=timing,
        fetch_image=kw.pop("fetch_image"),
        ollama_image=kw.pop("ollama_image"),
        resource_dirs=kw.pop("resource_dirs"),
        publish=kw.pop("publish"),
    )
    return {"plan": plan}
