"""Request paths, parsed into what they address: discovery, a collection, an object, a subresource.

Paths are split on their raw (still percent-encoded) form, so ``%2F`` cannot smuggle a slash
into a name, and logical cluster names are checked before anything is looked up.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import unquote

from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.api.resources import ResourcePath, ResourceRegistry

WILDCARD = "*"
_CLUSTER_NAME = re.compile(
    r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(:[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*"
)
#: A path segment, decoded, is 1 to this many characters, none of them a slash or a NUL.
_SEGMENT_MAX = 253


def is_valid_cluster_name(name: str) -> bool:
    return len(name) <= 253 and _matches_cluster_name(name)


@functools.lru_cache(maxsize=4096)
def _matches_cluster_name(name: str) -> bool:
    """Every request names its cluster: the regex runs once per name (at most 253 characters,
    so the cache stays small)."""
    return _CLUSTER_NAME.fullmatch(name) is not None


@dataclass(frozen=True)
class DiscoveryPath:
    """``/version``, ``/api``, ``/apis``, ``/apis/<group>`` or a group-version document."""

    cluster: str | None
    document: str
    group: str = ""
    version: str = ""


@dataclass(frozen=True)
class OpenAPIPath:
    """``/openapi/v2``, the ``/openapi/v3`` index, or one group-version's v3 document."""

    cluster: str | None
    version: str
    group_version: str = ""


RequestPath = DiscoveryPath | ResourcePath | OpenAPIPath


def _segments(raw_path: str) -> list[str]:
    parts = raw_path.split("/")
    if parts and parts[0] == "":
        parts = parts[1:]
    if parts and parts[-1] == "":
        parts = parts[:-1]
    segments = []
    for part in parts:
        segment = unquote(part) if "%" in part else part
        if (
            not 0 < len(segment) <= _SEGMENT_MAX
            or "/" in segment
            or "\x00" in segment
            or segment in {".", ".."}
        ):
            raise APIError(400, f"invalid path segment {segment!r} in {raw_path!r}")
        segments.append(segment)
    return segments


def _not_found(raw_path: str) -> APIError:
    return APIError(404, f"the server could not find the requested resource ({raw_path})")


def parse_path(raw_path: str, registry: ResourceRegistry) -> RequestPath:
    """Parse a raw request path; raise APIError 400 (malformed) or 404 (nothing there)."""
    if "//" in raw_path:
        raise APIError(400, f"empty path segment in {raw_path!r}")
    segments = _segments(raw_path)
    cluster: str | None = None
    if segments and segments[0] == "clusters":
        if len(segments) < 2:
            raise _not_found(raw_path)
        cluster = segments[1]
        if cluster != WILDCARD and not is_valid_cluster_name(cluster):
            raise APIError(400, f"invalid logical cluster name {cluster!r}")
        segments = segments[2:]
    if segments == ["version"]:
        return DiscoveryPath(cluster, "version")
    if segments[:1] == ["openapi"]:
        return _openapi_path(cluster, segments[1:], registry, raw_path)
    if segments == ["api"]:
        return DiscoveryPath(cluster, "api")
    if segments == ["apis"]:
        return DiscoveryPath(cluster, "apis")
    if segments[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", segments[2:]
    elif len(segments) >= 2 and segments[0] == "apis":
        group = segments[1]
        if len(segments) == 2:
            if not registry.groups(cluster).get(group):
                raise _not_found(raw_path)
            return DiscoveryPath(cluster, "group", group)
        version, rest = segments[2], segments[3:]
    else:
        raise _not_found(raw_path)
    if not registry.has_group_version(group, version, cluster):
        raise _not_found(raw_path)
    if not rest:
        return DiscoveryPath(cluster, "resources", group, version)
    return _resource_path(cluster, group, version, rest, registry, raw_path)


def _openapi_path(
    cluster: str | None, rest: list[str], registry: ResourceRegistry, raw_path: str
) -> OpenAPIPath:
    if rest in (["v2"], ["v3"]):
        return OpenAPIPath(cluster, rest[0])
    if rest[:1] == ["v3"]:
        if rest[1:3] == ["api", "v1"] and len(rest) == 3:
            return OpenAPIPath(cluster, "v3", "api/v1")
        if (
            len(rest) == 4
            and rest[1] == "apis"
            and registry.has_group_version(rest[2], rest[3], cluster)
        ):
            return OpenAPIPath(cluster, "v3", "/".join(rest[1:]))
    raise _not_found(raw_path)


def _resource_path(
    cluster: str | None,
    group: str,
    version: str,
    rest: list[str],
    registry: ResourceRegistry,
    raw_path: str,
) -> ResourcePath:
    namespace: str | None = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        candidate = registry.lookup(group, version, rest[2], cluster)
        if candidate is not None and candidate.namespaced:
            namespace, rest = rest[1], rest[2:]
    resource_type = registry.lookup(group, version, rest[0], cluster)
    if resource_type is None or len(rest) > 3:
        raise _not_found(raw_path)
    if namespace is None and resource_type.namespaced and len(rest) > 1:
        raise _not_found(raw_path)
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else None
    if subresource is not None and subresource not in resource_type.subresources:
        raise _not_found(raw_path)
    return ResourcePath(cluster, resource_type, namespace, name, subresource)
