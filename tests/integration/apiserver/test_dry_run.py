"""``dryRun=All``: answered as the write would be, nothing stored, no watch event."""

from __future__ import annotations

from tests.integration.apiserver.clients import ClusterClient

CONFIGMAPS = "/api/v1/namespaces/default/configmaps"
DRY = {"dryRun": "All"}


def test_dry_run_writes_nothing(upstream: ClusterClient) -> None:
    before = upstream.get(CONFIGMAPS).json()["metadata"]["resourceVersion"]
    body = {"metadata": {"name": "dry"}, "data": {"k": "v"}}
    created = upstream.post(CONFIGMAPS, body, params=DRY)
    assert created.status_code == 201, created.text
    assert created.json()["metadata"]["uid"]
    assert upstream.get(f"{CONFIGMAPS}/dry").status_code == 404
    upstream.post(CONFIGMAPS, body)
    stored = upstream.get(f"{CONFIGMAPS}/dry").json()
    updated = upstream.put(f"{CONFIGMAPS}/dry", {**stored, "data": {"k": "new"}}, params=DRY)
    assert updated.json()["data"] == {"k": "new"}
    patched = upstream.patch(
        f"{CONFIGMAPS}/dry", {"data": {"x": "y"}}, "application/merge-patch+json", params=DRY
    )
    assert patched.json()["data"] == {"k": "v", "x": "y"}
    deleted = upstream.delete(f"{CONFIGMAPS}/dry", params=DRY)
    assert deleted.status_code == 200
    in_body = upstream.delete(f"{CONFIGMAPS}/dry", json={"dryRun": ["All"]})
    assert in_body.status_code == 200
    collection = upstream.delete(CONFIGMAPS, params={**DRY, "fieldSelector": "metadata.name=dry"})
    assert [item["metadata"]["name"] for item in collection.json()["items"]] == ["dry"]
    assert upstream.get(f"{CONFIGMAPS}/dry").json() == stored
    after = upstream.get(CONFIGMAPS).json()["metadata"]["resourceVersion"]
    assert int(after) == int(before) + 1
    again = upstream.post(CONFIGMAPS, body, params=DRY)
    assert again.status_code == 409


def test_dry_run_validates_and_refuses_unknown_values(upstream: ClusterClient) -> None:
    invalid = upstream.post(CONFIGMAPS, {"metadata": {"name": "Not_Valid"}}, params=DRY)
    assert invalid.status_code == 422
    odd = upstream.post(CONFIGMAPS, {"metadata": {"name": "odd"}}, params={"dryRun": "Some"})
    assert odd.status_code == 400
    assert "dry run" in odd.json()["message"]
