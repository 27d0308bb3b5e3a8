"""`nos2compose import`: an existing Docker Compose project -> a Nosana job definition.

project_files.py is the entry point (Compose reads the project through the runner the engine boundary
gives; compose/project.py decides what to ask it); mapping.py and the modules it calls turn Compose's
normalized JSON into a job (pure). The command is cli/importing.py.
"""

from ..compose.project import ImportProblem, load_project
from .mapping import job_from_project
from .project_files import Imported, import_files

__all__ = ["ImportProblem", "Imported", "import_files", "job_from_project", "load_project"]
