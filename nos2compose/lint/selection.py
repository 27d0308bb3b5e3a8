"""Which codes are shown: --select, --extend-select and --ignore, as ruff reads them.

A selector is a code (NOS101) or a prefix of codes (NOS1, NOS10, NOS; ALL means every code). By default every
rule is selected except the opt-in ones (catalogue: NOS401); --select replaces that default, so `--select NOS`
selects the opt-in rules too, and --extend-select adds to whatever is selected. Within one layer (the
configuration file's, then the command line's), when a code matches both a selector and an ignore, the more
specific (longer) one wins, and ignore wins a tie: `--select NOS2 --ignore NOS202` shows NOS201 and NOS203;
`--ignore NOS2 --extend-select NOS201` shows NOS201 alone of its family. A later layer's select replaces
what the layers before it chose; its extend-select and ignore act on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

ALL = "ALL"


class SelectorError(ValueError):
    """A selector that names no code; its message says which and what exists."""


def selectors(values: Iterable[str]) -> tuple[str, ...]:
    """Selectors as given on the command line or in the config file (comma-separated or repeated), checked."""
    if not values:
        return ()
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
    """One layer of selectors (a configuration file's, the command line's), on top of the layers before it."""

    select: tuple[str, ...] | None = None  # None: keep what the layers before chose (at first, the default)
    extend: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    earlier: tuple[Selection, ...] = ()  # the layers under this one, first first

    def enabled(self, code: str | None) -> bool:
        """Whether a warning with this code is shown (a warning without a code always is)."""
        from .catalogue import BY_CODE

        rule = BY_CODE.get(code) if code else None
        if rule is None:
            return True
        shown = rule.default
        for layer in (*self.earlier, self):
            shown = layer._decides(code, shown)
        return shown

    def _decides(self, code: str, shown: bool) -> bool:
        picked = max((len(s) for s in (*(self.select or ()), *self.extend) if code.startswith(s)), default=-1)
        ignored = max((len(s) for s in self.ignore if code.startswith(s)), default=-1)
        if picked < 0 and ignored < 0:
            return shown and self.select is None  # a select of this layer replaces whatever was selected before
        return picked > ignored

    def then(self, later: Selection) -> Selection:
        """`later` (the command line's) on top of this one (a configuration file's): a select there replaces
        everything before it, as in ruff; extend-select and ignore there act on what this one selected."""
        return later._replace(earlier=(*self.earlier, self._replace(earlier=()), *later.earlier))
