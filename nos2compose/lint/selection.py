"""Which codes are shown: --select, --extend-select and --ignore, as ruff reads them.

A selector is a code (NOS101) or a prefix of codes (NOS1, NOS10, NOS; ALL means every code). By default every
rule is selected except the opt-in ones (catalogue: NOS401); --select replaces that default, so `--select NOS`
selects the opt-in rules too, and --extend-select adds to whatever is selected. When a code matches both a
selector and an ignore, the more specific (longer) one wins, and ignore wins a tie: `--select NOS2 --ignore
NOS202` shows NOS201 and NOS203; `--ignore NOS2 --extend-select NOS201` shows NOS201 alone of its family.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

ALL = "ALL"


class SelectorError(ValueError):
    """A selector that names no code; its message says which and what exists."""


def selectors(values: Iterable[str]) -> tuple[str, ...]:
    """Selectors as given on the command line or in the config file (comma-separated or repeated), checked."""
    from .catalogue import BY_CODE, FAMILIES

    out = []
    for value in values:
        for part in value.split(","):
            part = part.strip().upper()
            if not part:
                continue
            if part != ALL and not any(code.startswith(part) for code in BY_CODE):
                families = ", ".join(f"{prefix}xx" for prefix in FAMILIES)
                raise SelectorError(
                    f"'{part}' is no rule code nor prefix of one (NOS101, NOS1, NOS; families {families})"
                )
            out.append("NOS" if part == ALL else part)
    return tuple(out)


class Selection(NamedTuple):
    select: tuple[str, ...] | None = None  # None: the default, every rule but the opt-in ones
    extend: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    def enabled(self, code: str | None) -> bool:
        """Whether a warning with this code is shown (a warning without a code always is)."""
        from .catalogue import BY_CODE

        rule = BY_CODE.get(code) if code else None
        if rule is None:
            return True
        chosen = self.extend + (self.select or ())
        picked = max((len(s) for s in chosen if code.startswith(s)), default=-1)
        if self.select is None and rule.default:
            picked = max(picked, 0)
        ignored = max((len(s) for s in self.ignore if code.startswith(s)), default=-1)
        return picked >= 0 and picked > ignored

    def then(self, later: Selection) -> Selection:
        """This selection (a config file's) overridden by a later one (the command line's): its select replaces,
        its extend-select and ignore add."""
        select = later.select if later.select is not None else self.select
        return Selection(select, self.extend + later.extend, self.ignore + later.ignore)
