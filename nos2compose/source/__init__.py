"""A job's text: read (bounded, UTF-8), parsed (JSON or YAML), and located (path -> line:column)."""

from .document import Document
from .messages import MAX_DEPTH
from .reader import DEFAULT_LIMIT, LIMIT_ENV, SourceError, input_limit, read_source

__all__ = ["DEFAULT_LIMIT", "LIMIT_ENV", "MAX_DEPTH", "Document", "SourceError", "input_limit", "read_source"]
