"""Server-rendered pages: Jinja2 templates, static files and what rendering them needs."""
