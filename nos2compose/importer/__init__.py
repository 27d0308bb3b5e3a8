"""`nos2compose import`: an existing Docker Compose project -> a Nosana job definition.

project.py runs Compose (the only engine boundary); mapping.py and the modules it
calls turn Compose's normalized JSON into a job (pure); command.py is the CLI.
"""

from ..compose.project import ImportProblem, load_project
from .mapping import job_from_project

__all__ = ["ImportProblem", "job_from_project", "load_project"]
