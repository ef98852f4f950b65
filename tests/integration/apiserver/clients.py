"""Raw HTTP for the API server tests: a client per cluster."""

from __future__ import annotations

from typing import Any

import requests

from tests.support.tokens import bearer


class ClusterClient:
    """Raw HTTP to one logical cluster (or the wildcard) with one token, for what clients hide."""

    def __init__(self, base_url: str, token: str | None, verify: str | bool) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = verify
        if token is not None:
            self.session.headers.update(bearer(token))

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.base_url + path, timeout=30, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, json=body, **kwargs)

    def put(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, json=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def patch(self, path: str, body: Any, content_type: str, **kwargs: Any) -> requests.Response:
        headers = {"Content-Type": content_type}
        return self.request("PATCH", path, json=body, headers=headers, **kwargs)
