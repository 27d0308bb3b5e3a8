"""Each rule against a job that must make it fire (at the path it names) and one that must not.

The lints run as the CLI runs them: on the job as written and the typed job the compiler made of it. The
warnings the compiler gives itself (NOS108, NOS301, NOS302, ...) are checked the same way, through compile_job.
"""

from __future__ import annotations

import pytest
from helpers import job, run_op

from nos2compose.compiler import Options, compile_job
from nos2compose.diagnostics import format_path
from nos2compose.lint import lint_job


def findings(data: dict) -> list:
    """Every coded warning of the job: the compiler's own, then the lints'."""
    result = compile_job(data, Options(to_run=False))
    assert result.job is not None, [d.describe() for d in result.diagnostics.errors]
    return [*result.diagnostics.warnings, *lint_job(data, result.job)]


def codes_at(data: dict, code: str) -> list[str]:
    return [format_path(d.path) for d in findings(data) if d.code == code]


VLLM = "vllm/vllm-openai:v0.10.2"
VRAM = {"meta": {"system_requirements": {"vram_total_mb": 16384}}}
CHAT = {"type": "http", "path": "/v1/chat/completions", "method": "POST", "expected_status": 200}
CHAT_BODY = {**CHAT, "body": {"model": "m", "messages": [{"role": "user", "content": "hi"}]}}

# code -> (a job where it fires, the path it names, a job where it must not fire)
CASES = {
    "NOS101": (
        job(run_op("a", image="python:3.12", cmd=["python app.py --port 8000"])),
        "$.ops[0].args.cmd[0]",
        job(run_op("a", image="python:3.12", cmd=["python", "app.py", "--port", "8000"])),
    ),
    "NOS101-entrypoint-string": (
        job(run_op("a", image="python:3.12", entrypoint="python app.py")),
        "$.ops[0].args.entrypoint",
        job(run_op("a", image="python:3.12", entrypoint=["/bin/sh", "-c"], cmd=["python app.py --port 8000"])),
    ),
    "NOS101-global-entrypoint": (
        job(run_op("a", image="python:3.12"), **{"global": {"entrypoint": ["/bin/sh -c"]}}),
        "$.global.entrypoint[0]",
        job(run_op("a", image="python:3.12", cmd="python app.py --port 8000")),  # a string runs through sh -c
    ),
    "NOS102": (
        job(run_op("llm.server")),
        "$.ops[0].id",
        job(run_op("llm-server")),
    ),
    "NOS103": (
        job(run_op("llm", image=VLLM), **VRAM),
        "$.ops[0].args.image",
        job(run_op("llm", image=VLLM, gpu=True), **VRAM),
    ),
    "NOS103-global-image": (
        job({"type": "container/run", "id": "llm", "args": {}}, **{"global": {"image": "ollama/ollama:0.31.2"}}),
        "$.global.image",
        job(
            {"type": "container/run", "id": "llm", "args": {}},
            **{"global": {"image": "ollama/ollama:0.31.2", "gpu": True}},
            **VRAM,
        ),
    ),
    "NOS104": (
        job(run_op("llm", image=VLLM, gpu=True)),
        "$.ops[0].args.gpu",
        job(run_op("llm", image=VLLM, gpu=True), meta={"system_requirements": {"required_vram": 16}}),
    ),
    "NOS105": (
        job(run_op("llm", image=VLLM, gpu=True), meta={"system_requirements": {"required_vram": 16}}),
        "$.meta.system_requirements.required_vram",
        job(run_op("llm", image=VLLM, gpu=True), **VRAM),
    ),
    "NOS106": (
        job(run_op("llm", image=VLLM, gpu=True), meta={"system_requirements": {"vram_total_mb": 24}}),
        "$.meta.system_requirements.vram_total_mb",
        job(run_op("llm", image=VLLM, gpu=True), meta={"system_requirements": {"vram_total_mb": 24576}}),
    ),
    "NOS107": (
        job(run_op("llm", expose=[{"port": 8000, "health_checks": [{**CHAT_BODY, "continuous": True}]}])),
        "$.ops[0].args.expose[0].health_checks[0]",
        job(run_op("llm", expose=[{"port": 8000, "health_checks": [{**CHAT_BODY, "continuous": False}]}])),
    ),
    "NOS107-single-expose-object": (
        job(
            run_op(
                "llm", expose={"port": 11434, "health_checks": [{**CHAT, "path": "/api/generate", "continuous": True}]}
            )
        ),
        "$.ops[0].args.expose.health_checks[0]",
        job(
            run_op(
                "llm",
                expose={
                    "port": 11434,
                    "health_checks": [{**CHAT, "path": "/api/tags", "method": "GET", "continuous": True}],
                },
            )
        ),
    ),
    "NOS115": (
        job(run_op("ws", expose=[{"port": 9000, "health_checks": [{"type": "websocket", "expected_response": "hi"}]}])),
        "$.ops[0].args.expose[0].health_checks[0]",
        job(run_op("ws", expose=[{"port": 9000, "health_checks": [{**CHAT, "method": "GET", "path": "/health"}]}])),
    ),
    "NOS301": (
        job(run_op("a", env={"URL": "%%ops.b.host%%"})),
        "$.ops[0].args.env.URL",
        job(run_op("a", env={"URL": "%%ops.a.host%%"})),
    ),
    "NOS401": (
        job(run_op("a", image="nginx:latest"), run_op("b", image="busybox")),
        "$.ops[0].args.image",
        job(run_op("a", image="nginx:1.27"), run_op("b", image="busybox@sha256:" + "a" * 64)),
    ),
}


def _gating(with_checks: bool) -> dict:
    check = {"type": "http", "path": "/", "method": "GET", "expected_status": 200, "continuous": False}
    web = {
        "type": "container/run",
        "id": "web",
        "args": {"image": "x", "expose": [{"port": 8080, **({"health_checks": [check]} if with_checks else {})}]},
        "execution": {"group": "g"},
    }
    test = {
        "type": "container/run",
        "id": "test",
        "args": {"image": "x"},
        "execution": {"group": "g", "depends_on": ["web"]},
    }
    return job(web, test)


def _same_group_result(same_group: bool) -> dict:
    producer = {
        "type": "container/run",
        "id": "p",
        "args": {"image": "x"},
        "results": {"port": "port: (\\d+)"},
        "execution": {"group": "g" if same_group else "first"},
    }
    consumer = {
        "type": "container/run",
        "id": "c",
        "args": {"image": "x", "env": {"PORT": "%%ops.p.results.port%%"}},
        "execution": {"group": "g"},
    }
    return job(producer, consumer)


CASES["NOS108"] = (_gating(False), "$.ops[0].args.expose", _gating(True))
CASES["NOS302"] = (_same_group_result(True), "$.ops[1].args.env.PORT", _same_group_result(False))


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_rule_fires_where_it_should_and_not_on_the_fixed_job(case):
    bad, path, good = CASES[case]
    code = case.split("-")[0]
    assert path in codes_at(bad, code), [d.describe() for d in findings(bad)]
    assert codes_at(good, code) == [], [d.describe() for d in findings(good) if d.code == code]


def test_a_clean_correct_job_gets_no_lint():
    check = {"type": "http", "path": "/v1/models", "method": "GET", "expected_status": 200, "continuous": True}
    clean = job(
        run_op(
            "llm",
            image=VLLM,
            gpu=True,
            cmd=["--model", "m", "--port", "8000"],
            expose=[{"port": 8000, "health_checks": [check]}],
            env={"HF_HOME": "/models", "MAX_TOKENS": "4096"},
        ),
        **VRAM,
    )
    assert findings(clean) == []


def test_the_message_names_the_fix_and_the_op():
    (found,) = [d for d in findings(CASES["NOS101"][0]) if d.code == "NOS101"]
    assert found.op == "a"
    assert '["python", "app.py", "--port", "8000"]' in found.message and "/bin/sh -c" in found.message
    (vram,) = [d for d in findings(CASES["NOS106"][0]) if d.code == "NOS106"]
    assert "24576" in vram.message
    (old,) = [d for d in findings(CASES["NOS105"][0]) if d.code == "NOS105"]
    assert '"vram_total_mb": 16384' in old.message


def test_gpu_images_list_is_what_it_says():
    from nos2compose.lint.gpu import gpu_kind

    needs = {
        "nvidia/cuda:12.4.1-runtime-ubuntu22.04": "a CUDA image",
        "nvcr.io/nvidia/pytorch:24.05-py3": "an NVIDIA NGC image",
        "docker.io/vllm/vllm-openai:v0.10.2": "vLLM",
        "ghcr.io/huggingface/text-generation-inference:2.3.1": "Hugging Face TGI",
        "docker.io/ollama/ollama:0.31.2": "Ollama",
        "nosana/comfyui:2.0.5": "ComfyUI",
        "lmsysorg/sglang:v0.4.6-cu124": "a CUDA image",
        "lmsysorg/sglang:latest": "SGLang",
        "openmmlab/lmdeploy:v0.7.0": "LMDeploy",
        "pytorch/pytorch:2.5.1": "PyTorch's CUDA image",
        "tensorflow/tensorflow:2.17.0-gpu": "a GPU build (tag)",
        "ghcr.io/ggml-org/llama.cpp:server-cuda": "a CUDA image",
        "winglian/axolotl-cloud:main": "a fine-tuning image",
    }
    for image, kind in needs.items():
        assert gpu_kind(image) == kind, image
    for image in (
        "busybox:1.36",
        "nginx:latest",
        "ghcr.io/open-webui/open-webui:main",
        "postgres:15",
        "python:3.12-alpine",
        "curlimages/curl:8.11.1",
    ):
        assert gpu_kind(image) is None, image
