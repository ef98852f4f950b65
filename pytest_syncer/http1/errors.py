"""The one error of `http1/`, in a module of its own so the framing codec (`chunked.py`) and
the client (`pool.py`) both raise it without importing each other."""

from __future__ import annotations


class HTTPError(ConnectionError):
    """The server's answer is not HTTP/1.1 we can read, or the connection broke.

    A ConnectionError (so an OSError): callers treat an unreadable answer like an unreachable
    server, as they treat aiohttp's ClientError, and retry."""
