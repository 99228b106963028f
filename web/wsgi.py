"""The WSGI entry point for production servers: ``gunicorn 'web.wsgi:app'``."""

from . import create_app

app = create_app()
