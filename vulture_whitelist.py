"""Names vulture cannot see used: set or read by libraries, not by nos2compose's own code.

`vulture nos2compose vulture_whitelist.py --min-confidence 60` (make lint) finds nothing outside cli/,
whose click commands and LazyGroup methods click calls itself.
"""

import shlex

shlex.shlex("").whitespace_split  # noqa: B018  set on the lexer in importer/http_commands.py: shlex reads it

from nos2compose.compose import codec  # noqa: E402

codec.__getattr__  # noqa: B018  a module's __getattr__: Python calls it for a name the package loads lazily

from nos2compose.engine.stats import _Connection  # noqa: E402

_Connection.connect  # noqa: B018  http.client calls it before a request; the socket is already connected
