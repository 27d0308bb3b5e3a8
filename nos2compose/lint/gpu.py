"""GPUs and their memory: an image that needs one on an op without gpu: true (NOS103), gpu: true without a
VRAM requirement (NOS104), the older required_vram key (NOS105), vram_total_mb written in GiB (NOS106)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from ..diagnostics import Diagnostic
from .walk import LITERAL_MARK, finding, run_ops, section

# Images that need an NVIDIA GPU to do their work: (pattern on the image reference without its registry,
# lowercased; what it is). docs/lints.md lists them; tests/unit/lint/test_gpu.py holds an example of each.
GPU_IMAGES: tuple[tuple[str, str], ...] = (
    (r"(^|/)cuda(:|$)|^nvidia/|(:|[-_.])cuda|[-_.]cu1\d\d?\b|cudnn", "a CUDA image"),
    (r"^nvcr\.io/nvidia/", "an NVIDIA NGC image"),
    (r"(^|/)vllm[-/]|(^|/)vllm(:|$)", "vLLM"),
    (r"text-generation-inference", "Hugging Face TGI"),
    (r"(^|/)ollama(:|$)", "Ollama"),
    (r"comfyui", "ComfyUI"),
    (r"(^|/)sglang(:|$)|lmsysorg/", "SGLang"),
    (r"lmdeploy", "LMDeploy"),
    (r"tritonserver|tensorrt", "NVIDIA Triton / TensorRT"),
    (r"(^|/)pytorch/pytorch(:|$)", "PyTorch's CUDA image"),
    (r":[^/]*-gpu\b|:gpu\b", "a GPU build (tag)"),
    (r"axolotl|unsloth|kohya|llama-?factory", "a fine-tuning image"),
    (r"stable-diffusion|automatic1111|invokeai|sd-forge|text-generation-webui", "a Stable Diffusion / LLM web UI"),
)
_REGISTRY = re.compile(r"^(?:docker\.io/|index\.docker\.io/|registry\.hub\.docker\.com/)?(?:library/)?")
TOO_SMALL_MIB = 256  # no GPU has less; a vram_total_mb below it was written in GiB


@cache
def gpu_kind(image: str) -> str | None:
    """What a GPU image is (GPU_IMAGES), or None when nothing says it needs a GPU (cached: ops share images)."""
    name = _REGISTRY.sub("", image.strip().lower(), count=1)
    for pattern, kind in GPU_IMAGES:
        if re.search(pattern, name):
            return kind
    return None


def gpu_mismatches(data: Any, job: Any) -> Iterator[Diagnostic]:
    """NOS103 per op and NOS104 once per job, judged on the typed job (gpu and image after global fallbacks)."""
    raw = {op.index: op for op in run_ops(data)}
    requirement = _vram_requirement(data)
    first_gpu = None
    for op in job.run_ops:
        written = raw.get(op.index)
        if op.gpu:
            first_gpu = first_gpu or (op, written)
            continue
        kind = gpu_kind(op.image) if LITERAL_MARK not in op.image else None
        if kind is not None:
            path = written.at("image") if written and "image" in written.args else ("global", "image")
            yield finding(
                "NOS103",
                path,
                f"image '{op.image}' needs a GPU ({kind}), but the op has no gpu: true: on a node the container gets "
                "no GPU, so it fails to start or runs on the CPU while the job pays for the GPU; add "
                '"gpu": true to the op (or global.gpu)',
                op.id,
            )
    if first_gpu is not None and requirement is None:
        op, written = first_gpu
        path = written.at("gpu") if written and "gpu" in written.args else ("global", "gpu")
        yield finding(
            "NOS104",
            path,
            "gpu: true, but meta.system_requirements names no GPU memory: the market may place the job on any GPU, "
            "however little memory it has, and a model that does not fit fails after the job has started; add "
            '"meta": {"system_requirements": {"vram_total_mb": N}} with the MiB the job needs',
            op.id,
        )


def vram_keys(data: Any) -> Iterator[Diagnostic]:
    """NOS105 and NOS106, on meta.system_requirements as written."""
    wanted = section(data, "meta", "system_requirements")
    path = ("meta", "system_requirements")
    old = wanted.get("required_vram")
    if "required_vram" in wanted:
        figure = _number(old)
        instead = f'"vram_total_mb": {round(figure * 1024)}' if figure else '"vram_total_mb" in MiB'
        yield finding(
            "NOS105",
            (*path, "required_vram"),
            f"required_vram ({_shown(old)} GiB) is the older key: Nosana's templates moved to vram_total_mb in MiB, "
            f"and tooling that reads it sees no requirement; write {instead}",
        )
    mib = _number(wanted.get("vram_total_mb"))
    if mib is not None and 0 < mib < TOO_SMALL_MIB:
        yield finding(
            "NOS106",
            (*path, "vram_total_mb"),
            f"vram_total_mb is {_shown(wanted['vram_total_mb'])}, in MiB: that fits any GPU, so the job can land on "
            f"one far too small; if you meant {_shown(mib)} GiB, write {round(mib * 1024)}",
        )


def _vram_requirement(data: Any) -> Any:
    wanted = section(data, "meta", "system_requirements")
    for key in ("vram_total_mb", "required_vram"):
        if wanted.get(key) not in (None, "", 0):
            return wanted[key]
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        return float(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _shown(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
