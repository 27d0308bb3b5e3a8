"""Every warning code nos2compose gives, in one place: the lints' and those of the compiler's own warnings.

A code is `NOS` and three digits; the first digit is its family (FAMILIES). Codes are stable: a rule that is
dropped keeps its number retired, never reused. `--select`/`--ignore` and the config file choose among them
(selection.py); docs/lints.md has each rule's why with a bad and a good example, and a test keeps the two in
step. Errors have no code: they are never optional.

The table below is text, one block per rule, because it reads best so: a line `CODE name [flags]: summary`
(flags: `opt-in`, off by default; `up`, found by `nos2compose up` while it runs), then the help, indented: why
it matters on a node, and the fix.
"""

from __future__ import annotations

from typing import NamedTuple


class Rule(NamedTuple):
    code: str
    name: str  # kebab-case, as SARIF's reportingDescriptor.name and the docs' headings show it
    summary: str  # one line: what is wrong
    help: str  # why it matters on a node, and the fix
    default: bool = True  # selected unless --select says otherwise; False: opt-in
    stage: str = "job"  # "job": found in the job definition; "up": found by `nos2compose up` while it runs

    @property
    def family(self) -> str:
        return FAMILIES[self.code[:4]]


FAMILIES = {
    "NOS0": "validators: what Nosana's validators refuse (an error with --strict), or what the file itself says",
    "NOS1": "mistakes that cost GPU time: a valid job that cannot work as meant on a node",
    "NOS2": "credentials in a job definition, which is public unless the job is confidential",
    "NOS3": "literals and values the node rewrites, which fail or change an op when it starts",
    "NOS4": "images: what makes a job run something else tomorrow",
    "NOS9": "local differences: where `nos2compose up` or the Compose files behave unlike a node",
}

_TABLE = """
NOS001 unknown-key: a key Nosana's schema does not know
    Nosana's strict validator refuses unknown keys (an error with --strict); the node ignores them. Remove the key
    or fix its spelling.
NOS002 rejected-field: a field Nosana's validator rejects: args.output, args.required_vram, execution.timeout, ssh
    Older jobs and Nosana's own schema have these fields, but @nosana/types refuses the job and the node does not
    use them. Remove the field (GPU memory goes in meta.system_requirements.vram_total_mb).
NOS003 version: version missing or other than "0.1"
    The strict validator wants version "0.1" exactly. Add "version": "0.1".
NOS004 image-from-global: an op without an image of its own, relying on global.image
    The node falls back to global.image, but @nosana/types requires args.image in every container/run op, so the job
    is refused before it runs. Give each op its own image.
NOS005 missing-continuous: a health check without 'continuous'
    The strict validator requires continuous on every health check; without it the node reads false (the check gates
    start-up only). Add "continuous": false or true.
NOS006 missing-log-type: a result {regex} without 'logType'
    The strict validator requires logType; without it every stream is read. Add "logType": ["stdout"] (or the
    streams you mean).
NOS007 refused-by-node-validator: what the node's validator (@nosana/sdk) refuses, though @nosana/types accepts it
    `nosana job post` and the node validate with @nosana/sdk, which refuses an empty volumes array, expose as a
    single object and chunked on expose. Drop the empty volumes array, write expose as an array, drop chunked.
NOS008 refused-by-types-validator: what @nosana/types refuses, though the node's validator accepts it
    Nosana's kit and template repository validate with @nosana/types, which refuses port ranges, logistics without
    send or receive, meta values that are not text or numbers, and stop_if_dependent_stops without depends_on (an
    error with --strict). Use single ports, complete logistics and plain meta values.
NOS009 no-effect: a field that means nothing where it is (results of a create-volume op)
    Only container/run ops have logs to take results from. Remove the field.
NOS010 duplicate-key: a key given twice in one object
    JSON.parse keeps the last value, silently; the first is dead text that readers of the job may believe. Keep one.
NOS011 byte-order-mark: the file starts with a UTF-8 byte order mark
    Some tools refuse or misread a byte order mark at the start of JSON. Save the file as UTF-8 without it.
NOS101 packed-command: an array cmd or entrypoint whose first item holds a whole command line
    The node passes an array as it is: the first item is executed as one program name, spaces and all, so the
    container fails to start (after an entrypoint, the program gets one argument with spaces in it). Split the line
    into items, or give cmd as a string, which runs through /bin/sh -c.
NOS102 unreachable-op-id: an op id with a dot or a space
    Newer @nosana/types (Nosana's kit, the template repository's checks) refuse both; the 2.1.6 validator accepts
    dots. A literal cannot name an id with a dot: %%ops.a.b.host%% reads op 'a'. Use letters, digits, '-' and '_'.
NOS103 gpu-image-without-gpu: an image that needs a GPU (CUDA, vLLM, TGI, Ollama, ...) on an op without gpu: true
    Without gpu: true the node gives the container no GPU: the server fails to start, or runs on the CPU at a
    fraction of the speed, while the job pays for the GPU. Add "gpu": true to the op (or global.gpu).
NOS104 gpu-without-vram: gpu: true, but meta.system_requirements names no GPU memory
    The market matches a job to a GPU by meta.system_requirements; without a VRAM figure any GPU qualifies, however
    little memory it has, and a model that does not fit fails after the job has started. Add
    meta.system_requirements.vram_total_mb (MiB).
NOS105 old-vram-key: meta.system_requirements.required_vram (GiB), the older key
    Nosana's templates moved from required_vram in GiB to vram_total_mb in MiB; tooling that reads vram_total_mb sees
    no requirement. Write vram_total_mb: the GiB figure times 1024.
NOS106 vram-in-gigabytes: meta.system_requirements.vram_total_mb under 256, which looks like gigabytes
    vram_total_mb is in MiB: 24 asks for 24 MiB, which every GPU has, so the job can land on one far too small. Write
    24576 for 24 GiB.
NOS107 generating-health-check: a continuous health check that POSTs to an inference route
    A continuous check runs every 30 s for the whole job: POST /v1/chat/completions (or /api/generate, ...) makes the
    model generate each time, which costs GPU time and slows real requests. Check GET /v1/models, /health or
    /api/tags instead (Nosana's templates dropped such checks).
NOS108 gate-without-health-checks: an op others depend on that exposes ports without health checks
    On a node a dependency that exposes ports reports startup success only through its health checks: without them
    its dependents never start, and the job pays for the wait. Add a health check to each exposed port.
NOS109 service-blocks-next-group: a service (it exposes ports) in a group that is not the last
    On a node a group ends only when every op in it has exited: a long-running service keeps every later group
    waiting for the whole job. Put services in the last group, with the ops that use them (depends_on orders them).
NOS110 service-exits-early [up]: at `up` time, an op that exposes ports and exits within a few seconds
    A service whose command returns ends the op: on a node its URL never answers and the op ends. Keep the server in
    the foreground (exec it, or end a wrapper script with `wait`). Reported by `nos2compose up` while it runs, when
    a container that exposes ports exits within 5 s of its start (always on: up has no lint options).
NOS111 missing-volume: a mount of a volume no container/create-volume op creates
    The volume is created empty when the op starts, so data the op expects there is missing (a typo in the name?).
    Create it with a container/create-volume op, or fix the name.
NOS112 invalid-results-regex: a results regex that does not compile
    The node reports the regex's error text as the result's value, so every op that reads it gets that text. Fix the
    regular expression (JavaScript syntax).
NOS113 dependency-without-group: depends_on between ops that have no execution group
    The node runs each such op in a group of its own: it starts the dependent once its dependency is ready, and again
    when its own group's turn comes. Give them the same execution.group.
NOS114 ssh-key-not-openssh: an ssh.public_keys entry that is not an OpenSSH public key
    Nosana's validators accept any string there, but no ssh client can log in with it, so the job's ssh access does
    not work. Give the public key as `ssh-keygen` writes it (the .pub file): TYPE BASE64 [COMMENT].
NOS115 websocket-check-never-passes: a websocket health check, which a node runs against its own tunnel container
    The node (ExposedPortHealthCheck.ts) runs a websocket check as `curl ws://localhost:PORT` inside its tunnel
    container, whose localhost is not the op: the check never passes there, so the op never reports startup
    success, its dependents never start and its URL stays OFFLINE. Locally it passes when the op answers. Check the
    port with an http health check instead (GET on a route that answers 200).
NOS201 credential: a credential of a well-known shape (Hugging Face, OpenAI, AWS, GitHub, JWT, private key, ...)
    A job definition posted to Nosana is public unless the job is confidential: anyone can read and use the token.
    Make the job confidential, or supply the value when the job runs (and revoke this one). Shapes: Hugging Face,
    OpenAI, Anthropic, AWS access key ids, GitHub, GitLab, Slack, Stripe, Google API keys, SendGrid, npm, PyPI, JWTs,
    PEM private keys. Diagnostics never print more than a short masked prefix of the value.
NOS202 secret-named-value: a random-looking value under a name such as *_TOKEN, *_KEY, *SECRET*, *PASSWORD*
    A job definition posted to Nosana is public unless the job is confidential. A random-looking value under a
    secret's name is most likely one (a weaker hint than NOS201; placeholders such as MY_SECRET_TOKEN, <your-token>
    or ${HF_TOKEN} do not fire). Make the job confidential, or supply the value when the job runs.
NOS203 password-in-url: a URL with a password in it (scheme://user:password@host)
    A job definition posted to Nosana is public unless the job is confidential: the password is readable by anyone.
    Make the job confidential, or supply the URL when the job runs.
NOS301 unresolved-literal: a literal that cannot be resolved (an unknown op, key, result or variable)
    The node fails the op before it starts (Unresolved literal), and the other ops go on. Fix the name, or add the
    variable to global.variables.
NOS302 result-too-early: a literal naming results of an op of the same or a later group
    Results exist once their op has exited, which is never before an op of its own or an earlier group starts: the
    node fails the op. Move the op that produces them to an earlier group.
NOS303 not-a-literal: text shaped like a literal that the node's patterns do not take
    The node resolves %%ops|global.KEY.PATH%% and %%global|globals.KEY%% only; anything else stays text in the
    container. Fix the spelling.
NOS304 spread-failure: a __spread__ or __pairs__ whose value is not what it must splice
    The node fails the op when a spread's value is not an array (in arrays) or an object (in objects). Give the
    literal a value of the right kind.
NOS305 text-read-as-json: text that starts with [ or { and parses as JSON, which the node uses parsed
    The node parses such text in an op's own fields: an env value '{"k":1}' becomes [object Object], a cmd item
    '["a","b"]' two items. Write the value so that it does not parse, or give the structure itself.
NOS306 json-in-command: a cmd or entrypoint item that the node turns into an object or a number
    Docker refuses the node's container (cannot unmarshal ... of type string), so the op fails before it starts with
    exit code 2. Write the item so that it does not parse as JSON.
NOS401 floating-tag [opt-in]: an image by the latest tag, or with no tag
    latest (or no tag) is whatever was pushed last: the job runs other code tomorrow, and a node that cached an older
    latest runs that one. Pin a version tag or a digest. Off by default (many templates use latest): select it with
    --select NOS401 or --extend-select NOS401.
NOS901 result-filled-by-up: a result of an earlier op, which only `nos2compose up` fills in
    The Compose files hold a ${N2C_...} variable for it; plain `docker compose` stops, naming it, until it is set.
    Use `nos2compose up`, or set the variable.
NOS902 renamed-service: an op id Compose refuses as a service name, renamed
    The service gets a valid name; its op label keeps the id and %%ops.ID.host%% resolves to the new name.
NOS903 node-only-value: a value only a node has (its tunnel server), or a splice only the node can make
    `nos2compose up` fails the op before it starts; on a node it runs. Test the op on a node, or give the value
    another way for local runs.
NOS904 private-port: private: true, which only changes how the node makes the public URL
    Locally every port is published on 127.0.0.1 only, private or not.
NOS905 registry-login: a registry login (authentication.docker)
    `nos2compose up` logs in before the pull; with plain `docker compose`, run `docker login` yourself.
NOS906 logistics-ignored: logistics, which has no local equivalent
    How a confidential job's ops and results travel is the node's business; locally it is ignored.
NOS907 ssh-ignored: ssh access, which is not set up locally
    Use `docker exec` into the op's container instead.
NOS908 resources-from-results: resources spliced from results of earlier ops
    The node fetches them when the op starts; nos2compose cannot, so locally the op starts without them.
NOS909 range-health-checks: health checks on a port range
    A Compose healthcheck needs one port, so they are not run locally.
NOS910 unprintable-group-name: a group name holding a character that cannot be shown as it is
    Labels keep the name exactly; comments and messages show it escaped, and group file names replace it with '-'.
    A plain name avoids this.
NOS911 restart-without-limit: a task (no ports) with a restart_policy without limit (always, unless-stopped, on-failure)
    When its command keeps exiting, a node (its Podman provider) ends the op once three polls a second apart find it
    stopped between two runs; Docker restarts it without end, so `nos2compose up` waits for it until --timeout. Give
    on-failure with restart_tries, or no policy.
NOS912 lone-spread-expose: expose as a lone {__spread__} with no array around it
    The node merges a lone spread into an object: it fails the op unless the value is a JSON object, and then
    exposes no port. `nos2compose up` does the same, except for a result of an earlier op, known only at run
    time, whose ports are published locally. Put it in an array: [{"__spread__": ...}].
"""


def _rules(table: str) -> tuple[Rule, ...]:
    """The table's blocks as Rules (parsed once, at import: well under a millisecond)."""
    rules = []
    for block in ("\n" + table.strip()).split("\nNOS")[1:]:
        head, *help_lines = block.split("\n")
        label, _, summary = head.partition(": ")
        code, name, *flags = label.replace("[", "").replace("]", "").split()
        help_text = " ".join(line.strip() for line in help_lines)
        rules.append(
            Rule("NOS" + code, name, summary, help_text, "opt-in" not in flags, "up" if "up" in flags else "job")
        )
    return tuple(rules)


RULES: tuple[Rule, ...] = _rules(_TABLE)
BY_CODE = {rule.code: rule for rule in RULES}

# Errors have no code of their own; SARIF results still want a rule, so they are reported under this one.
ERROR = Rule(
    "NOS000",
    "invalid-job",
    "an error: the job is refused, or cannot be read or run as written",
    "Errors are never optional: --select and --ignore do not apply to them. Fix the job.",
)
