"""The auditor portal: server-rendered pages (Jinja2), assets served locally, zh/en."""
