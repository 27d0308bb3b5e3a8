"""The house rules of the package's structure, measured by tools/house.py (docs/architecture.md says why):
no import cycle, one engine boundary, one codec for labels, click only in cli/, nothing writes os.environ,
no function over 60 lines."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "nos2compose"


def _house():
    spec = importlib.util.spec_from_file_location("house", ROOT / "tools" / "house.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


house = _house()
KNOWN = house.modules(PACKAGE)


def test_no_import_cycle_with_imports_inside_functions_counted_too():
    assert house.cycles(house.imports(KNOWN, inside_functions=True)) == []


def test_processes_start_only_at_the_engine_boundary():
    assert sorted(house.process_modules(KNOWN)) == ["nos2compose.engine.docker", "nos2compose.engine.process"]


def test_only_the_codec_writes_and_reads_labels():
    spelling = house.label_modules(KNOWN)
    assert spelling and all(
        name.startswith(("nos2compose.compose.codec", "nos2compose.compose.contract")) for name in spelling
    )


def test_no_function_is_over_sixty_lines():
    assert house.long_functions(KNOWN) == []


def _imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def test_click_is_imported_only_by_the_cli():
    users = [name for name, path in KNOWN.items() if "click" in _imports_of(path)]
    assert users and all(name.startswith("nos2compose.cli") for name in users), users


def test_nothing_writes_the_process_environment():
    """Values for a group's start go to the engine call as that process's environment, never os.environ."""
    writers = []
    for name, path in KNOWN.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            target = None
            if isinstance(node, (ast.Assign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                target = next((t for t in targets if isinstance(t, ast.Subscript)), None)
                target = target.value if target is not None else None
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in ("update", "setdefault", "pop", "clear", "putenv"):
                    target = node.func.value
            if target is not None and ast.unparse(target) in ("os.environ", "environ", "os"):
                writers.append(f"{name}:{node.lineno}")
    assert writers == []


def test_modules_stay_small():
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in KNOWN.items()}
    assert {name: n for name, n in sizes.items() if n > 600} == {}
