"""Streaming responses must not hold a database connection for as long as an answer takes.

Under ASGI a request's connection normally lives until the response has been sent; for a chat stream that is
seconds to minutes, and a few hundred open streams would exhaust PostgreSQL's connection slots. This middleware
closes the connection before a streaming view runs and again after the response middleware (session save) has
run, so a waiting stream holds none. The pipeline opens short-lived connections for its own steps.
"""

from __future__ import annotations

from django.db import connection


def close_database_connection() -> None:
    # Inside a transaction (tests) the connection must stay: closing it would abort the transaction.
    if not connection.in_atomic_block:
        connection.close()


def releases_database(view):
    """Mark a view whose response streams for a long time."""
    view.releases_database = True
    return view


class ReleaseDatabaseForStreamsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(response, "streaming", False):
            close_database_connection()
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "releases_database", False):
            close_database_connection()
        return None
