"""The embedded API server fuzzed from its own OpenAPI v3 documents with schemathesis.

Every operation of the core, apps and batch groups and of a CRD's group gets schema-valid and
schema-invalid requests over real HTTPS with the admin token. None may get a 5xx or hang past
its timeout; every refusal must be a ``Status`` whose code is the HTTP status; responses must
conform to the documents' schemas and content types; the server must still be ready after.

`SYNCER_FUZZ_EXAMPLES` (default 1) is how many inputs Hypothesis draws per operation and mode;
the seed is `--syncer-seed`. docs/reliability.md has the long run's command and figures.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance, status_code_conformance
from schemathesis.core.result import Err

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.harness.config import HarnessConfig
from pytest_syncer.harness.waiting import wait_until
from tests.support.tokens import bearer, token_of

pytestmark = pytest.mark.syncer_e2e

EXAMPLES = int(os.environ.get("SYNCER_FUZZ_EXAMPLES", "1"))
REQUEST_TIMEOUT = 10.0
"""Seconds one request may take before it counts as a hang."""

GROUP_VERSIONS = ("api/v1", "apis/apps/v1", "apis/batch/v1", "apis/fuzz.example.com/v1")

EXCLUDED_CHECKS = [
    # Kubernetes documents only its success codes (and 401); 400, 404, 409 and 422 are real
    # answers every client handles, so an undocumented status code is no failure.
    status_code_conformance,
    # The schemas are structural only: names, label values, selectors, images and many
    # cross-field rules are validated beyond them, so schema-valid data is often rightly a 422.
    positive_data_acceptance,
]

WIDGETS_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.fuzz.example.com"},
    "spec": {
        "group": "fuzz.example.com",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {
                    "status": {},
                    "scale": {
                        "specReplicasPath": ".spec.replicas",
                        "statusReplicasPath": ".status.replicas",
                    },
                },
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "replicas": {"type": "integer", "minimum": 0},
                                    "color": {"type": "string", "enum": ["red", "blue"]},
                                    "tags": {
                                        "type": "array",
                                        "items": {"type": "string"},
                                        "maxItems": 4,
                                    },
                                },
                            },
                            "status": {
                                "type": "object",
                                "properties": {"replicas": {"type": "integer"}},
                            },
                        },
                    }
                },
            }
        ],
    },
}


@dataclass
class Tally:
    """What one group-version's run sent and what went wrong."""

    operations: int = 0
    requests: int = 0
    inputs: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundAPIServer]:
    server = BackgroundAPIServer(["upstream"], tmp_path_factory.mktemp("fuzz") / "kubeconfigs")
    with server:
        yield server


@pytest.fixture(scope="module")
def session(fuzzed: BackgroundAPIServer) -> requests.Session:
    """The admin's session, trusting only the server's CA, with the Widget CRD served."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(fuzzed.ca_file)
    session.headers.update(bearer(token_of(fuzzed.admin_kubeconfig)))
    base = f"{fuzzed.url}/clusters/upstream"
    crds = f"{base}/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    assert session.post(crds, json=WIDGETS_CRD, timeout=REQUEST_TIMEOUT).status_code == 201
    wait_until(
        lambda: session.get(f"{base}/openapi/v3", timeout=REQUEST_TIMEOUT).json()["paths"],
        lambda paths: GROUP_VERSIONS[-1] in paths,
        what="the Widget CRD's group in /openapi/v3",
    )
    return session


def refusal_problem(response: schemathesis.Response) -> str | None:
    """Why a 4xx answer is not a proper Kubernetes ``Status``, or None when it is one."""
    try:
        body = response.json()
    except ValueError:
        return f"not JSON: {response.text[:200]!r}"
    if not isinstance(body, dict):
        return f"not an object: {response.text[:200]!r}"
    shape = (body.get("kind"), body.get("apiVersion"), body.get("code"))
    if shape != ("Status", "v1", response.status_code):
        return f"not a Status with code {response.status_code}: {response.text[:200]!r}"
    return None


def fuzz_operation(
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    base_url: str,
    session: requests.Session,
    seed: int,
    tally: Tally,
) -> None:
    """Draw ``EXAMPLES`` cases of one operation in one mode, send each, record what is wrong."""

    @hypothesis.seed(seed)
    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode), in_default=st.booleans())
    def send(case: schemathesis.Case, in_default: bool) -> None:
        # Half the cases address a namespace that exists, so writes get past the 404.
        if in_default and "namespace" in (case.path_parameters or {}):
            case.path_parameters = {**(case.path_parameters or {}), "namespace": "default"}
        # A watch streams until its timeout, rightly; watches are fuzzed elsewhere.
        if case.query:
            case.query.pop("watch", None)
        label = f"{mode.value} {operation.label}"
        try:
            response = case.call(
                base_url=base_url, session=session, timeout=REQUEST_TIMEOUT, verify=session.verify
            )
        except requests.RequestException as error:
            tally.failures.append(f"{label}: {type(error).__name__}: {error}")
            return
        tally.requests += 1
        request = response.request
        tally.inputs.add(
            hashlib.sha256(
                f"{request.method} {request.url} {request.headers.get('Content-Type')}".encode()
                + (request.body if isinstance(request.body, bytes) else b"")
            ).hexdigest()
        )
        sent = f"{label}: {request.method} {request.url}"
        if response.status_code >= 500:
            tally.failures.append(f"{sent}: {response.status_code} {response.text[:200]!r}")
        elif response.status_code >= 400 and (problem := refusal_problem(response)):
            tally.failures.append(f"{sent}: {problem}")
        try:
            case.validate_response(response, excluded_checks=EXCLUDED_CHECKS)
        except (AssertionError, BaseExceptionGroup) as error:
            reason = str(error).strip()[:600]
            tally.failures.append(f"{sent}: {reason}\nanswered {response.text[:300]!r}")

    send()


@pytest.mark.parametrize("group_version", GROUP_VERSIONS)
def test_every_operation_survives_the_fuzzer(
    fuzzed: BackgroundAPIServer,
    session: requests.Session,
    syncer_config: HarnessConfig,
    group_version: str,
) -> None:
    """Failures are collected over the whole group-version, so one run reports them all."""
    base_url = f"{fuzzed.url}/clusters/upstream"
    index = session.get(f"{base_url}/openapi/v3", timeout=REQUEST_TIMEOUT).json()["paths"]
    document_url = fuzzed.url + index[group_version]["serverRelativeURL"]
    schema = schemathesis.openapi.from_dict(session.get(document_url, timeout=30).json())
    tally = Tally()
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            pytest.fail(f"{group_version}: an operation schemathesis cannot read: {result.err()}")
        operation = result.ok()
        tally.operations += 1
        # Every parameter of these documents is a string, so only a body can be made invalid.
        modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if operation.body else [])
        for mode in modes:
            fuzz_operation(operation, mode, base_url, session, syncer_config.seed, tally)
    print(
        f"{group_version}: {tally.operations} operations, {tally.requests} requests, "
        f"{len(tally.inputs)} distinct inputs, {len(tally.failures)} failures"
    )
    assert not tally.failures, "\n".join(tally.failures)
    assert session.get(f"{fuzzed.url}/readyz", timeout=REQUEST_TIMEOUT).status_code == 200
