"""A job's text: read (bounded, UTF-8; reader.py), parsed (JSON or YAML; json_doc.py, yaml_doc.py), and located
(path -> line:column; document.py). Nothing is imported here, so a command that needs only printable.py
(`ps`) loads only that."""
