"""The input side: raw job mapping -> typed model, checking every key on the way.

Each key of the job is handled, warned about (it changes nothing, or is not
reproduced locally), or rejected; nothing is dropped silently. Literals in an
op's args are resolved first, so the model holds final values (and Templates
where a value is known only at run time).
"""

from .authentication import RegistryLogin
from .job import Loaded, read_job

__all__ = ["Loaded", "RegistryLogin", "read_job"]
