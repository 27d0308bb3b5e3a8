"""Lints: mistakes in a job definition that cost GPU time on a node, credentials in it, and the catalogue of
every warning code (catalogue.py). Pure functions over the job, like the compiler: findings are Diagnostics
with a code, and the CLI turns them into lines, JSON, SARIF or GitHub annotations at the edge."""
