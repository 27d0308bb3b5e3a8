"""Pieces of the `up` use case that need no engine."""

from __future__ import annotations


def test_gpu_memory_warning_uses_nvidia_smi(tmp_path, monkeypatch, capsys):
    from nos2compose.supervisor.up import _vram_warning

    warnings = []

    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 8192\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    _vram_warning({"system_requirements": {"required_vram": 6}}, warnings.append)  # 6 GiB fits in 8 GiB
    assert warnings == []
    _vram_warning({"system_requirements": {"vram_total_mb": 68608}}, warnings.append)
    err = "".join(warnings)
    assert "asks for 68608 MiB of GPU memory" in err and "has 8192 MiB" in err
