"""The catalogue lists every code a warning carries, each once, and every warning the compiler gives has one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from nos2compose.lint.catalogue import BY_CODE, ERROR, FAMILIES, RULES

PACKAGE = Path(__file__).resolve().parents[3] / "nos2compose"
# where warnings are made: the compiler and its passes, the parsers' own (BOM, duplicate keys), the lints
SOURCES = [*sorted((PACKAGE / "load").glob("*.py")), PACKAGE / "compiler.py", PACKAGE / "source" / "messages.py"]
# how many positional arguments come before `code` in each way of making a warning
BEFORE_CODE = {"warning": 3, "strict_rule": 4, "fails": 3}


def _warning_calls():
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in BEFORE_CODE:
                yield path, node


def _code_of(node: ast.Call):
    for keyword in node.keywords:
        if keyword.arg == "code":
            return keyword.value
    before = BEFORE_CODE[node.func.attr]
    return node.args[before] if len(node.args) > before else None


def test_codes_are_well_formed_unique_and_in_a_family():
    codes = [rule.code for rule in RULES]
    assert len(codes) == len(set(codes)) == len(BY_CODE)
    for rule in RULES:
        assert re.fullmatch(r"NOS\d{3}", rule.code), rule.code
        assert rule.code[:4] in FAMILIES
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name), rule.name
        assert rule.summary and rule.help and "\n" not in rule.help
    assert len({rule.name for rule in RULES}) == len(RULES)
    assert ERROR.code not in BY_CODE


def test_opt_in_and_up_time_rules_are_marked():
    assert [r.code for r in RULES if not r.default] == ["NOS401"]
    assert [r.code for r in RULES if r.stage == "up"] == ["NOS110"]


def test_every_warning_the_compiler_gives_has_a_code_from_the_catalogue():
    calls = list(_warning_calls())
    assert len(calls) > 30  # the scan sees the calls (a refactoring that hides them would make this test empty)
    for path, node in calls:
        code = _code_of(node)
        assert code is not None, f"{path.name}:{node.lineno}: a warning without a code"
        if isinstance(code, ast.Constant):  # literals.py passes the code an Unresolved carries: checked below
            assert code.value in BY_CODE, f"{path.name}:{node.lineno}: {code.value} is not in the catalogue"


def test_every_code_written_in_the_source_is_in_the_catalogue():
    written = set()
    for path in SOURCES:
        written |= set(re.findall(r'"(NOS\d{3})"', path.read_text()))
    assert written and written <= set(BY_CODE), written - set(BY_CODE)


def test_docs_have_every_rule_with_why_a_bad_and_a_good_example():
    text = (PACKAGE.parent / "docs" / "lints.md").read_text()
    sections = re.split(r"\n### ", text)[1:]
    documented = {section.split()[0]: section for section in sections}
    assert list(documented) == [rule.code for rule in RULES]  # every rule, in catalogue order, nothing else
    for rule in RULES:
        section = documented[rule.code]
        assert section.startswith(f"{rule.code} {rule.name}\n"), rule.code
        assert "\nWhy:" in section and "\nBad" in section and "\nGood" in section, rule.code
