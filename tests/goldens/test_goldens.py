"""Every fixture converts to its committed goldens byte for byte (the single file; the group files and the
scripts beside them), and Compose accepts them.

Regenerate the goldens after an intended change with:
    NOS2COMPOSE_UPDATE_GOLDENS=1 python -m pytest tests/goldens
then review `git diff fixtures/`.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from helpers import CLI, FIXTURES, ROOT, compose_config_errors, run_cli

UPDATE = os.environ.get("NOS2COMPOSE_UPDATE_GOLDENS") == "1"
CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())


def job_file(case: str) -> Path:
    (found,) = [p for p in (FIXTURES / case).iterdir() if p.stem == case and p.suffix in (".json", ".yaml", ".yml")]
    return found


def extra_args(case: str) -> list[str]:
    """Options a case converts with: one per line in fixtures/<case>/args, if that file exists."""
    path = FIXTURES / case / "args"
    return path.read_text().split("\n")[:-1] if path.exists() else []


def compare(path: Path, actual: str) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="\n")
        return
    assert path.exists(), f"missing golden {path.relative_to(ROOT)}; run with NOS2COMPOSE_UPDATE_GOLDENS=1"
    assert actual == path.read_text(encoding="utf-8"), f"{path.relative_to(ROOT)} differs from the output"


@pytest.mark.parametrize("case", CASES)
def test_single_file_golden(case):
    job = job_file(case).relative_to(ROOT)
    result = run_cli("convert", str(job), *extra_args(case))
    assert result.exit_code == 0, result.stderr
    compare(FIXTURES / case / "compose.yaml", result.stdout)
    compare(FIXTURES / case / "warnings.txt", result.stderr)


@pytest.mark.parametrize("case", CASES)
def test_group_files_golden(case, tmp_path):
    job = job_file(case).relative_to(ROOT)
    out = tmp_path / "groups"
    result = run_cli("convert", str(job), "-o", str(out), *extra_args(case))
    assert result.exit_code == 0, result.stderr
    written = sorted(p.name for p in out.iterdir())
    golden_dir = FIXTURES / case / "groups"
    if UPDATE:
        if golden_dir.exists():
            for old in golden_dir.iterdir():
                old.unlink()
    else:
        assert written == sorted(p.name for p in golden_dir.iterdir())
    for name in written:
        compare(golden_dir / name, (out / name).read_text(encoding="utf-8"))


def test_the_group_files_mount_the_scripts_beside_them_and_only_those_are_there():
    """Each script the group files mount (configs: file:, relative to the group file) is a file of its own in
    groups/, compared byte for byte above; no other file is there, and the single file carries them inline."""
    import yaml

    written = 0
    for case in CASES:
        golden_dir = FIXTURES / case / "groups"
        mounted = set()
        for path in sorted(golden_dir.glob("*.yaml")):
            for spec in (yaml.safe_load(path.read_text(encoding="utf-8")).get("configs") or {}).values():
                assert set(spec) == {"file"} and "/" not in spec["file"], (path, spec)
                mounted.add(spec["file"])
        scripts = {p.name for p in golden_dir.iterdir() if p.suffix != ".yaml"}
        assert scripts == mounted, case
        single = yaml.safe_load((FIXTURES / case / "compose.yaml").read_text(encoding="utf-8"))
        assert all(set(spec) == {"content"} for spec in (single.get("configs") or {}).values()), case
        written += len(scripts)
    assert written >= 10


@pytest.mark.compose
def test_goldens_are_valid_compose(compose):
    files = sorted(FIXTURES.glob("*/compose.yaml")) + sorted(FIXTURES.glob("*/groups/*.yaml"))
    assert len(files) >= 2 * len(CASES)
    assert compose_config_errors(compose, files) == ""


@pytest.mark.parametrize("case", ["resources", "runtime-literals", "health-checks"])
def test_same_bytes_under_other_hash_seeds_directories_and_locales(case, tmp_path):
    """Each run in a process of its own: another hash seed, working directory and locale, the same bytes."""
    job = str(job_file(case))
    outputs = set()
    for seed, cwd, locale in (("0", ROOT, "C.UTF-8"), ("12345", tmp_path, "C"), ("random", "/", "POSIX")):
        env = {**os.environ, "PYTHONHASHSEED": seed, "LC_ALL": locale, "LANG": locale}
        proc = subprocess.run(
            CLI + ["convert", job, *extra_args(case)], capture_output=True, cwd=cwd, env=env, check=False
        )
        assert proc.returncode == 0, proc.stderr
        outputs.add(proc.stdout)
    assert len(outputs) == 1
    assert outputs.pop().decode() == (FIXTURES / case / "compose.yaml").read_text(encoding="utf-8")
