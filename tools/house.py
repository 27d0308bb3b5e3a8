"""Figures about the package's structure, for reviews and closing notes: `python tools/house.py [PACKAGE]`.

Prints, for the package (default: nos2compose):
- modules, and the largest module (lines);
- import cycles among modules: module-level imports, those under `if TYPE_CHECKING:` included, and
  separately with the imports made inside functions as well;
- modules that start processes (import subprocess or python_on_whales);
- modules that spell Compose labels (a `io.nosana` or `com.docker.compose` string, or a name ending in
  `_LABEL` or `_LABELS` taken from elsewhere);
- functions over 60 lines.
tests/unit/test_house.py holds the package to the same rules.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

LONG = 60
PROCESS_MODULES = ("subprocess", "python_on_whales")
LABEL_TEXT = ("io.nosana", "com.docker.compose")


def modules(package: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the package."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _resolve(name: str, node: ast.ImportFrom | ast.Import, known: dict[str, Path], alias: str | None) -> str | None:
    if isinstance(node, ast.Import):
        target = alias
    else:
        base = name.split(".")
        is_package = known[name].name == "__init__.py"
        if node.level:
            base = base[: len(base) - node.level + (1 if is_package else 0)]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
    if target is None:
        return None
    # `from .x import y` may name a module y of package x
    if isinstance(node, ast.ImportFrom) and alias and f"{target}.{alias}" in known:
        return f"{target}.{alias}"
    while target and target not in known:
        target = target.rpartition(".")[0]
    return target or None


def imports(known: dict[str, Path], inside_functions: bool) -> dict[str, set[str]]:
    """Module -> the package's modules it imports."""
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _import_nodes(tree, inside_functions):
            for alias in node.names:
                target = _resolve(name, node, known, alias.name)
                if target and target != name:
                    graph[name].add(target)
    return graph


def _import_nodes(tree: ast.AST, inside_functions: bool):
    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, (ast.Import, ast.ImportFrom)) and (inside_functions or not in_function):
                yield child
            yield from visit(child, nested)

    yield from visit(tree, False)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def process_modules(known: dict[str, Path]) -> list[str]:
    out = []
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            if any(n.split(".")[0] in PROCESS_MODULES for n in names):
                out.append(name)
                break
    return out


def label_modules(known: dict[str, Path], codec: str = "codec") -> list[str]:
    """Modules that write or read labels themselves: a label's text, or a label name used outside a message
    (names read through the codec module, and names quoted in an f-string message, do not count)."""
    out = []
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        in_message = {id(n) for f in ast.walk(tree) if isinstance(f, ast.JoinedStr) for n in ast.walk(f)}
        in_message |= {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}  # docstrings
        spelled = False
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in in_message:
                spelled = spelled or any(t in node.value for t in LABEL_TEXT)
            elif isinstance(node, ast.Attribute) and node.attr.endswith(("_LABEL", "_LABELS")):
                base = node.value.id if isinstance(node.value, ast.Name) else ""
                spelled = spelled or (base != codec and id(node) not in in_message)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] != codec:
                spelled = spelled or any(a.name.endswith(("_LABEL", "_LABELS")) for a in node.names)
        if spelled:
            out.append(name)
    return out


def long_functions(known: dict[str, Path], limit: int = LONG) -> list[tuple[str, int]]:
    out = []
    for path in known.values():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > limit:
                    out.append((f"{path}:{node.lineno} {node.name}", length))
    return sorted(out, key=lambda item: -item[1])


def main(argv: list[str]) -> int:
    package = Path(argv[0] if argv else "nos2compose")
    known = modules(package)
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in known.items()}
    largest = max(sizes, key=sizes.get)
    print(f"modules: {len(known)}; largest: {known[largest]} ({sizes[largest]} lines)")
    for label, inside in (
        ("import cycles (module level, TYPE_CHECKING included)", False),
        ("with imports in functions", True),
    ):
        found = cycles(imports(known, inside))
        print(f"{label}: {len(found)}")
        for c in found:
            print("  " + " <-> ".join(c))
    starting = process_modules(known)
    print(f"modules that start processes: {len(starting)}: {', '.join(starting)}")
    spelling = label_modules(known)
    print(f"modules that spell labels: {len(spelling)}: {', '.join(spelling)}")
    long = long_functions(known)
    print(f"functions over {LONG} lines: {len(long)}")
    for where, length in long:
        print(f"  {where}: {length}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
