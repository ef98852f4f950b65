"""Kubernetes ``Status`` answers for what goes wrong at the tunnel, so kubectl and the official
clients show a readable reason instead of a bare HTTP code."""

from __future__ import annotations

import json
from http import HTTPStatus

from aiohttp import web

from pytest_syncer.tunnel.protocol import Headers

STATUS_HEADERS: Headers = (("Content-Type", "application/json"),)

_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    413: "RequestEntityTooLarge",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def status_body(code: int, message: str) -> bytes:
    reason = _REASONS.get(code) or HTTPStatus(code).phrase.replace(" ", "")
    status = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    return json.dumps(status, separators=(",", ":")).encode()


def status_response(code: int, message: str) -> web.Response:
    headers = {"WWW-Authenticate": 'Bearer realm="pytest-syncer"'} if code == 401 else None
    return web.Response(
        status=code,
        body=status_body(code, message),
        content_type="application/json",
        headers=headers,
    )
