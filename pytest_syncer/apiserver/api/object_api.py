"""The object operations behind the HTTP verbs: create, get, list, update, patch, delete.

Everything here is synchronous and runs on the server's event loop, so a read followed by a
write can never interleave with another request's write. HTTP framing lives in ``http/``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pytest_syncer.apiserver.api import errors, ownership, structural_schema
from pytest_syncer.apiserver.api.admission import AdmissionRequest, ClusterAdmission, Operation
from pytest_syncer.apiserver.api.crds import CRD_KEY, CustomResourceDefinitions
from pytest_syncer.apiserver.api.deletion import (
    NAMESPACE_KEY,
    Policy,
    deletion_policy,
    finalizer_for,
    goes_now,
    terminating,
    without_finalizer,
)
from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.api.field_validation import check_types
from pytest_syncer.apiserver.api.graceful import (
    GRACEFUL_KEYS,
    begin,
    precondition_failed,
    requested_grace,
    utc_now,
)
from pytest_syncer.apiserver.api.kinds import (
    immutable_field_errors,
    on_create,
    pod_admission,
    server_set,
)
from pytest_syncer.apiserver.api.kinds.namespaces import ROOT_CA_CONFIG_MAP, root_ca_config_map
from pytest_syncer.apiserver.api.objects import (
    generate_name,
    mark_deleting,
    prepare_create,
    prepare_status_update,
    prepare_update,
    stored_cluster,
    unchanged,
)
from pytest_syncer.apiserver.api.paging import (
    EXACT,
    EXPIRED_CONTINUE_MESSAGE,
    EXPIRED_EXACT_MESSAGE,
    ListOptions,
    Page,
    SortKey,
    page,
    roll_back,
    sort_key,
    too_large,
)
from pytest_syncer.apiserver.api.patch import (
    PatchError,
    apply_json_patch,
    apply_merge_patch,
    apply_merge_patch_sharing,
)
from pytest_syncer.apiserver.api.resources import ResourcePath, ResourceRegistry, ResourceType
from pytest_syncer.apiserver.api.selectors import FieldSelector, LabelSelector
from pytest_syncer.apiserver.api.strategic_merge import (
    StrategicMergeUnsupportedError,
    apply_strategic_merge_patch,
    schema_for,
)
from pytest_syncer.apiserver.api.validation.field_errors import FieldError, invalid_message
from pytest_syncer.apiserver.api.validation.kinds import validate_object
from pytest_syncer.apiserver.api.write_options import DEFAULT_WRITE, WriteOptions
from pytest_syncer.apiserver.store import (
    CompactedError,
    KeyExistsError,
    KeyNotFoundError,
    ObjectKey,
    RevisionConflictError,
    Store,
    WatchEvent,
)

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
GENERATE_NAME_ATTEMPTS = 8
SERVICE_KEY = "core/services"
POD_KEY = "core/pods"
SERVICE_ACCOUNT_KEY = "core/serviceaccounts"
RESOURCE_VERSION_ON_CREATE = "resourceVersion should not be set on objects to be created"
"""The storage layer's refusal (``storage.ErrResourceVersionSetOnCreate``), which reaches the
client as a 500 with reason Unknown since no registry layer turns it into a Status."""


def _with_given_managed_fields(obj: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """A status write keeps the old metadata, except ownership the write itself computed."""
    given = (new.get("metadata") or {}).get("managedFields")
    if given is None:
        return obj
    return {**obj, "metadata": {**obj["metadata"], "managedFields": given}}


def patch_document(
    document: dict[str, Any], content_type: str, patch: Any, api_version: str, kind: str
) -> dict[str, Any]:
    """``document`` patched by a JSON, merge or strategic merge patch; Status errors."""
    try:
        if content_type == JSON_PATCH:
            if not isinstance(patch, list):
                raise APIError(400, "a JSON patch must be a list of operations")
            patched = apply_json_patch(document, patch)
        elif content_type == STRATEGIC_MERGE_PATCH:
            patched = apply_strategic_merge_patch(document, patch, api_version, kind)
        else:
            patched = apply_merge_patch(document, patch)
    except StrategicMergeUnsupportedError as exc:
        raise APIError(415, str(exc)) from None
    except PatchError as exc:
        raise APIError(422, f"the patch could not be applied: {exc}") from None
    if not isinstance(patched, dict):
        raise APIError(422, "the patched object is not a JSON object")
    return patched


MAX_REVISION = 2**63 - 1
"""The largest revision the stores can hold (SQLite's INTEGER)."""
_MAX_REVISION_DIGITS = len(str(MAX_REVISION))


def parse_revision(value: object, what: str = "resourceVersion") -> int | None:
    """A resourceVersion as an int; ``None`` when absent or empty; 400 when not a number.

    ASCII digits only: `str.isdigit` also takes superscripts and other scripts' digits, which
    `int` refuses or reads as another number."""
    if value is None or value == "":
        return None
    if (
        isinstance(value, str)
        and value.isascii()
        and value.isdigit()
        and len(value) <= _MAX_REVISION_DIGITS
        and int(value) <= MAX_REVISION
    ):
        return int(value)
    raise APIError(400, f"invalid {what}: {value!r} is not a resource version of this server")


def _sets_resource_version(value: object) -> bool:
    """Whether a create's resourceVersion is one the storage refuses: a number other than 0
    (an unparsable one is ignored, as the real storage's versioner ignores it)."""
    return isinstance(value, str) and value.isascii() and value.isdigit() and int(value) != 0


def _cluster_of(obj: dict[str, Any], cluster: str | None) -> str:
    return cluster if cluster is not None else stored_cluster(obj)


@dataclass(frozen=True)
class Selection:
    """A list or watch's selectors; empty ones select everything."""

    labels: LabelSelector | None = None
    fields: FieldSelector | None = None

    @property
    def empty(self) -> bool:
        return (self.labels is None or self.labels.empty) and (
            self.fields is None or self.fields.empty
        )

    def matches(self, obj: dict[str, Any]) -> bool:
        if self.labels is not None and not self.labels.matches(
            (obj.get("metadata") or {}).get("labels")
        ):
            return False
        return self.fields is None or self.fields.matches(obj)


class ObjectAPI:
    """The API's semantics over a store: Kubernetes rules, Status errors, no HTTP."""

    def __init__(self, store: Store, registry: ResourceRegistry) -> None:
        self.store = store
        self.listed: Callable[[str, int, int], None] = lambda resource, evaluated, returned: None
        """Told of every list: the resource, objects checked against the selectors, returned."""
        self.registry = registry
        self.crds = CustomResourceDefinitions(store, registry)
        self.admission = ClusterAdmission()
        #: The CA bundle every namespace's ``kube-root-ca.crt`` carries; None over plain HTTP.
        self.root_ca_pem: str | None = None

    # Reads.

    def key(self, path: ResourcePath, name: str | None = None) -> ObjectKey:
        assert path.cluster is not None
        object_name = name if name is not None else path.name
        assert object_name is not None
        return ObjectKey(path.resource_type.key, path.cluster, path.namespace or "", object_name)

    def get(self, path: ResourcePath) -> dict[str, Any]:
        obj = self.store.get(self.key(path))
        if obj is None:
            raise self._not_found(path.resource_type, path.name or "")
        return obj

    def list_objects(self, path: ResourcePath, selection: Selection) -> list[dict[str, Any]]:
        """Matching objects; a field selector pinning the name is a direct lookup."""
        resource_type = path.resource_type
        cluster = None if path.cluster in (None, "*") else path.cluster
        namespace = path.namespace
        if selection.fields is not None:
            pinned_namespace = selection.fields.exact_value("metadata.namespace")
            if resource_type.namespaced and pinned_namespace is not None:
                if namespace is not None and namespace != pinned_namespace:
                    return []
                namespace = pinned_namespace
            pinned_name = selection.fields.exact_value("metadata.name")
            if (
                pinned_name is not None
                and cluster is not None
                and (namespace is not None or not resource_type.namespaced)
            ):
                key = ObjectKey(resource_type.key, cluster, namespace or "", pinned_name)
                found = self.store.get(key)
                return [found] if found is not None and selection.matches(found) else []
        terms = selection.labels.index_terms() if selection.labels is not None else ()
        items = self.store.list_objects(resource_type.key, cluster, namespace, terms)
        selected = items if selection.empty else [i for i in items if selection.matches(i)]
        self.listed(resource_type.key, len(items), len(selected))
        return selected

    def list_page(
        self, path: ResourcePath, selection: Selection, options: ListOptions
    ) -> tuple[Page, int]:
        """One page of a list, and the revision it shows (see ``paging.py``)."""
        current = self.store.revision
        token = options.continue_token
        revision = current
        expired_message = EXPIRED_CONTINUE_MESSAGE
        if token is not None:
            revision = token.revision
        elif options.resource_version not in (None, "", "0"):
            requested = parse_revision(options.resource_version)
            assert requested is not None
            if requested > current:
                raise too_large(requested, current)
            if options.match == EXACT:
                revision, expired_message = requested, EXPIRED_EXACT_MESSAGE
        if revision < self.store.compacted:
            raise APIError(410, expired_message, reason="Expired")
        cluster = None if path.cluster in (None, "*") else path.cluster
        if revision >= current:
            items = self.list_objects(path, selection)
            ordered = [(sort_key(obj, _cluster_of(obj, cluster)), obj) for obj in items]
        else:
            ordered = self._snapshot(path, selection, cluster, revision, expired_message)
        after = None if token is None else token.start
        shown = page(
            ordered,
            revision=revision,
            after=after,
            limit=options.limit,
            count_remaining=selection.empty,
        )
        return shown, revision

    def _snapshot(
        self,
        path: ResourcePath,
        selection: Selection,
        cluster: str | None,
        revision: int,
        expired_message: str,
    ) -> list[tuple[SortKey, dict[str, Any]]]:
        resource_type = path.resource_type
        namespace = path.namespace
        try:
            events = self.store.events_since(resource_type.key, revision)
        except CompactedError:
            raise APIError(410, expired_message, reason="Expired") from None
        current = {
            sort_key(obj, _cluster_of(obj, cluster)): obj
            for obj in self.store.list_objects(resource_type.key, cluster, namespace)
        }

        def wanted(event: WatchEvent) -> bool:
            key = event.key
            return (cluster is None or key.cluster == cluster) and (
                namespace is None or key.namespace == namespace
            )

        state = roll_back(current, events, wanted)
        return sorted(
            ((key, obj) for key, obj in state.items() if selection.matches(obj)),
            key=lambda entry: entry[0],
        )

    # Writes.

    def create(
        self, path: ResourcePath, body: dict[str, Any], options: WriteOptions = DEFAULT_WRITE
    ) -> dict[str, Any]:
        resource_type = path.resource_type
        assert path.cluster is not None
        self._check_type(resource_type, body)
        if resource_type.definition:
            self.crds.refuse_if_terminating(path.cluster, resource_type)
        metadata = self._metadata(body)
        namespace = self._namespace_for(path, metadata)
        if resource_type.namespaced:
            self._require_namespace(path.cluster, namespace)
        if _sets_resource_version(metadata.get("resourceVersion")):
            raise APIError(500, RESOURCE_VERSION_ON_CREATE, reason="Unknown")
        name = metadata.get("name")
        attempts = 1
        if not name:
            prefix = metadata.get("generateName")
            if not prefix:
                raise APIError(
                    422,
                    f"{resource_type.kind} is invalid: metadata.name: Required value: "
                    "name or generateName is required",
                    name="",
                    kind=resource_type.kind,
                    group=resource_type.group,
                    causes=[
                        {
                            "reason": "FieldValueRequired",
                            "message": "Required value: name or generateName is required",
                            "field": "metadata.name",
                        }
                    ],
                )
            attempts = GENERATE_NAME_ATTEMPTS
        taken = ""
        for _ in range(attempts):
            obj = prepare_create(resource_type, body, cluster=path.cluster, namespace=namespace)
            if not name:
                obj["metadata"]["name"] = generate_name(str(obj["metadata"]["generateName"]))
            obj = ownership.record_write(resource_type, None, obj, manager=options.field_manager)
            obj = self._set_by_server(path.cluster, resource_type, obj)
            obj = self._conform(resource_type, obj)
            self._validate(resource_type, obj)
            if resource_type.key == CRD_KEY:
                obj = self.crds.admit(path.cluster, obj)
            request = AdmissionRequest(Operation.CREATE, resource_type, "", obj)
            self.admission.admit(path.cluster, request)
            key = self.key(path, obj["metadata"]["name"])._replace(namespace=namespace)
            if options.dry_run:
                if self.store.get(key) is not None:
                    taken = key.name
                    continue
                return obj
            try:
                created = self.store.create(key, obj).object
            except KeyExistsError:
                taken = key.name
                continue
            if resource_type.key == NAMESPACE_KEY:
                self._create_default_service_account(path.cluster, key.name)
            elif resource_type.key == CRD_KEY:
                self.crds.serve(path.cluster, created)
            return created
        raise errors.already_exists(resource_type.resource, taken, resource_type.group)

    def _set_by_server(
        self, cluster: str, resource_type: ResourceType, obj: dict[str, Any]
    ) -> dict[str, Any]:
        """The fields a create gets from the server, after ownership (no manager owns them)."""
        if resource_type.definition:
            return obj
        obj, problems = on_create(resource_type.group, resource_type.kind, obj)
        if resource_type.key == POD_KEY:
            account = ObjectKey(
                SERVICE_ACCOUNT_KEY,
                cluster,
                obj["metadata"].get("namespace", ""),
                pod_admission.service_account_name(obj),
            )
            obj = pod_admission.admit_pod(obj, self.store.get(account), generate_name)
        if resource_type.key == SERVICE_KEY:
            taken = self.store.list_objects(SERVICE_KEY, cluster, None)
            obj, refused = server_set.allocate_service(obj, *server_set.used_addresses(taken))
            problems += refused
        if problems:
            raise self._invalid(resource_type, obj, problems)
        return obj

    def _create_default_service_account(self, cluster: str, namespace: str) -> None:
        """What the ServiceAccount controller and the root CA publisher do for every new
        namespace."""
        accounts = self.registry.require("", "v1", "serviceaccounts")
        body = {"metadata": {"name": "default"}}
        obj = prepare_create(accounts, body, cluster=cluster, namespace=namespace)
        self.store.create(ObjectKey(accounts.key, cluster, namespace, "default"), obj)
        if self.root_ca_pem is not None:
            config_maps = self.registry.require("", "v1", "configmaps")
            body = root_ca_config_map(self.root_ca_pem)
            obj = prepare_create(config_maps, body, cluster=cluster, namespace=namespace)
            key = ObjectKey(config_maps.key, cluster, namespace, ROOT_CA_CONFIG_MAP)
            self.store.create(key, obj)

    def update(
        self, path: ResourcePath, body: dict[str, Any], options: WriteOptions = DEFAULT_WRITE
    ) -> dict[str, Any]:
        expected = self._replacement_of(path, body)
        old = self.get(path)
        return self._replace(path, old, body, expected, options)

    def patch(
        self,
        path: ResourcePath,
        content_type: str,
        patch: Any,
        options: WriteOptions = DEFAULT_WRITE,
    ) -> dict[str, Any]:
        if content_type == APPLY_PATCH:
            return self.apply(path, patch, options)
        old = self.get(path)
        resource_type = path.resource_type
        if content_type == MERGE_PATCH and path.subresource == "status" and isinstance(patch, dict):
            # A status write reads the patched status and metadata only (prepare_status_update):
            # the rest of the stored object needs no copy.
            patched = apply_merge_patch_sharing(old, patch)
        else:
            patched = patch_document(
                old, content_type, patch, resource_type.api_version, resource_type.kind
            )
        metadata = self._metadata(patched)
        expected = parse_revision(metadata.get("resourceVersion"))
        if expected is not None and str(expected) != old["metadata"]["resourceVersion"]:
            raise self._conflict(path)
        return self._replace(path, old, patched, expected, options)

    def patch_or_create(
        self,
        path: ResourcePath,
        content_type: str,
        patch: Any,
        options: WriteOptions = DEFAULT_WRITE,
    ) -> tuple[dict[str, Any], bool]:
        """A patch, and whether it created the object: only server-side apply creates one
        (Kubernetes answers that apply with 201 Created)."""
        created = content_type == APPLY_PATCH and self.store.get(self.key(path)) is None
        return self.patch(path, content_type, patch, options), created

    def apply(
        self, path: ResourcePath, config: Any, options: WriteOptions = DEFAULT_WRITE
    ) -> dict[str, Any]:
        """Server-side apply: merge ``config`` as ``options.field_manager``; create if absent."""
        resource_type = path.resource_type
        expected = self._apply_config(path, config)
        old = self.store.get(self.key(path))
        subresource = path.subresource or ""
        if old is None:
            if subresource:
                raise self._not_found(resource_type, path.name or "")
            merged = ownership.apply(
                resource_type, None, config, manager=options.field_manager, force=options.force
            )
            merged["metadata"] = {**merged["metadata"], "name": path.name}
            return self.create(path, merged, options)
        merged = ownership.apply(
            resource_type,
            old,
            config,
            manager=options.field_manager,
            force=options.force,
            subresource=subresource,
        )
        return self._replace(path, old, merged, expected, options, applied=True)

    def apply_converted(
        self,
        path: ResourcePath,
        storage_path: ResourcePath,
        config: Any,
        options: WriteOptions,
        to_served: Callable[[dict[str, Any]], dict[str, Any]],
        to_storage: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> tuple[dict[str, Any], bool]:
        """Server-side apply through a converted version (``api/conversion.py``), and whether
        it created the object: the stored object is converted to ``path``'s version, ``config``
        applied to that view (ownership recorded under the request's apiVersion, as the real
        field manager records it), and the result converted back and stored."""
        expected = self._apply_config(path, config)
        old = self.store.get(self.key(storage_path))
        live = to_served(old) if old is not None else None
        merged = ownership.apply(
            path.resource_type,
            live,
            config,
            manager=options.field_manager,
            force=options.force,
        )
        merged["metadata"] = {**merged["metadata"], "name": path.name}
        stored = to_storage(merged)
        if old is None:
            return self.create(storage_path, stored, options), True
        return self._replace(storage_path, old, stored, expected, options, applied=True), False

    def _apply_config(self, path: ResourcePath, config: Any) -> int | None:
        """An apply configuration's checks (an object of the URL's type, name and namespace);
        the resourceVersion it expects, if any."""
        if not isinstance(config, dict):
            raise APIError(400, "an apply patch must be an object")
        for field in ("apiVersion", "kind"):
            if not config.get(field):
                raise APIError(400, f"{field} must be set in an apply patch")
        return self._replacement_of(path, config)

    def _replacement_of(self, path: ResourcePath, body: dict[str, Any]) -> int | None:
        """A whole object written to ``path`` (an update, an apply configuration): of the URL's
        type, name and namespace; the resourceVersion it expects, if any."""
        self._check_type(path.resource_type, body)
        metadata = self._metadata(body)
        if metadata.get("name") not in (None, path.name):
            raise APIError(
                400,
                f"the name of the object ({metadata.get('name')}) does not match the name on "
                f"the URL ({path.name})",
            )
        if path.namespace is not None:
            self._namespace_for(path, metadata)
        return parse_revision(metadata.get("resourceVersion"))

    def delete(
        self,
        path: ResourcePath,
        options: dict[str, Any] | None = None,
        query: Mapping[str, str] | None = None,
        *,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """DELETE; a dry run answers with the object as it stands (a Pod as the DELETE would
        mark it) and changes nothing."""
        grace = requested_grace(options, query or {})
        if dry_run:
            current = self.get(path)
            if path.resource_type.key in GRACEFUL_KEYS:
                return begin(current, grace, utc_now()).marked or current
            return current
        policy = deletion_policy(options, query or {})
        old = self.get(path)
        preconditions = (options or {}).get("preconditions") or {}
        if not isinstance(preconditions, dict):
            raise APIError(400, "DeleteOptions.preconditions must be an object")
        metadata = old["metadata"]
        kind, group, name = path.resource_type.kind, path.resource_type.group, path.name or ""
        uid = preconditions.get("uid")
        if uid is not None and uid != metadata.get("uid"):
            raise precondition_failed(kind, group, name, "UID", uid, metadata.get("uid", ""))
        expected = parse_revision(preconditions.get("resourceVersion"))
        if expected is not None and str(expected) != metadata["resourceVersion"]:
            recorded = metadata["resourceVersion"]
            given = str(preconditions["resourceVersion"])
            raise precondition_failed(kind, group, name, "ResourceVersion", given, recorded)
        return self._delete_object(self.key(path), old, policy, grace)

    def delete_collection(
        self,
        path: ResourcePath,
        selection: Selection,
        options: dict[str, Any] | None = None,
        query: Mapping[str, str] | None = None,
        *,
        dry_run: bool = False,
    ) -> list[dict[str, Any]]:
        """DELETE of a collection; a dry run answers with the objects it would delete."""
        if dry_run:
            return self.list_objects(path, selection)
        policy = deletion_policy(options, query or {})
        grace = requested_grace(options, query or {})
        deleted = []
        for obj in self.list_objects(path, selection):
            metadata = obj["metadata"]
            key = ObjectKey(
                path.resource_type.key,
                str(path.cluster),
                metadata.get("namespace", ""),
                metadata["name"],
            )
            deleted.append(self._delete_object(key, obj, policy, grace))
        return deleted

    # Helpers.

    def _replace(
        self,
        path: ResourcePath,
        old: dict[str, Any],
        new: dict[str, Any],
        expected: int | None,
        options: WriteOptions = DEFAULT_WRITE,
        *,
        applied: bool = False,
    ) -> dict[str, Any]:
        """Store an update of ``old``; ``applied``: ``new`` comes from server-side apply, whose
        ``managedFields`` already say who owns what (recording it again as an Update would
        hand the applied fields to an Update entry)."""
        resource_type = path.resource_type
        if path.subresource == "status":
            obj = prepare_status_update(new, old)
            obj = _with_given_managed_fields(obj, new)
        else:
            if resource_type.key == SERVICE_KEY:
                new = server_set.carry_service_allocations(new, old)
            obj = prepare_update(resource_type, new, old)
            if not resource_type.definition:
                changed = immutable_field_errors(resource_type.group, resource_type.kind, obj, old)
                if changed:
                    raise self._invalid(resource_type, obj, changed)
        if not applied:
            obj = ownership.record_write(
                resource_type,
                old,
                obj,
                manager=options.field_manager,
                subresource=path.subresource or "",
            )
        obj = self._conform(resource_type, obj)
        self._validate(resource_type, obj)
        key = self.key(path)
        request = AdmissionRequest(
            Operation.UPDATE, resource_type, path.subresource or "", obj, old
        )
        self.admission.admit(key.cluster, request)
        if expected is not None and str(expected) != old["metadata"]["resourceVersion"]:
            raise self._conflict(path)
        if options.dry_run:
            return old if unchanged(obj, old) else obj
        if goes_now(obj):
            return self._release(key, obj)
        if unchanged(obj, old):
            return old
        try:
            updated = self.store.update(key, obj, expected_revision=expected).object
        except RevisionConflictError:
            raise self._conflict(path) from None
        except KeyNotFoundError:
            raise self._not_found(resource_type, key.name) from None
        if resource_type.key == CRD_KEY:
            self.crds.serve(key.cluster, updated)
        return updated

    def delete_key(
        self, key: ObjectKey, old: dict[str, Any], policy: Policy = Policy.BACKGROUND
    ) -> dict[str, Any]:
        """DELETE of a stored object by key, as the controllers (GC, namespaces) issue it."""
        return self._delete_object(key, old, policy)

    def remove_finalizer(self, key: ObjectKey, finalizer: str) -> None:
        """Drop one finalizer; a deleting object left with none goes away."""
        obj = self.store.get(key)
        if obj is None or finalizer not in (obj["metadata"].get("finalizers") or ()):
            return
        updated = without_finalizer(obj, finalizer)
        if goes_now(updated):
            self._release(key, updated)
        else:
            self.store.update(key, updated)

    def _delete_object(
        self,
        key: ObjectKey,
        old: dict[str, Any],
        policy: Policy = Policy.BACKGROUND,
        grace: int | None = None,
    ) -> dict[str, Any]:
        metadata = old["metadata"]
        if key.resource == NAMESPACE_KEY:
            if metadata.get("deletionTimestamp"):
                return old
            return self.store.update(key, terminating(old)).object
        finalizers = list(metadata.get("finalizers") or ())
        added = finalizer_for(policy)
        if added is not None and added not in finalizers and not metadata.get("deletionTimestamp"):
            finalizers.append(added)
        if key.resource in GRACEFUL_KEYS:
            step = begin(old, grace, utc_now())
            if step.pending:
                return old
            if step.marked is not None:
                marked = step.marked
                if finalizers:
                    marked["metadata"]["finalizers"] = finalizers
                stored = self.store.update(key, marked).object
                if finalizers or step.period > 0:
                    return stored
                return self._release(key, stored)
        if finalizers:
            if metadata.get("deletionTimestamp"):
                return old
            marked = mark_deleting(old)
            marked["metadata"]["finalizers"] = finalizers
            return self.store.update(key, marked).object
        return self._release(key, old)

    def _release(self, key: ObjectKey, obj: dict[str, Any]) -> dict[str, Any]:
        """Remove the object now; its dependents are the garbage collector's business."""
        if key.resource == CRD_KEY:
            self.crds.withdraw(key.cluster, obj)
        return self.store.delete(key).object

    @staticmethod
    def _conform(resource_type: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        """A custom resource pruned and checked by its CRD version's schema."""
        if resource_type.schema is None:
            return obj
        pruned, problems = structural_schema.admit(obj, resource_type.schema)
        if problems:
            name = (obj.get("metadata") or {}).get("name") or ""
            raise APIError(
                422,
                invalid_message(f"{resource_type.kind}.{resource_type.group}", name, problems),
                name=name,
                kind=resource_type.kind,
                group=resource_type.group,
                causes=[problem.to_cause() for problem in problems],
            )
        return pruned

    def _check_type(self, resource_type: ResourceType, body: dict[str, Any]) -> None:
        kind = body.get("kind")
        api_version = body.get("apiVersion")
        if kind not in (None, "", resource_type.kind):
            raise APIError(
                400,
                f"the kind of the object ({kind}) does not match the kind of the URL "
                f"({resource_type.kind})",
            )
        if api_version not in (None, "", resource_type.api_version):
            raise APIError(
                400,
                f"the apiVersion of the object ({api_version}) does not match the URL "
                f"({resource_type.api_version})",
            )

    @staticmethod
    def _metadata(body: dict[str, Any]) -> dict[str, Any]:
        metadata = body.get("metadata")
        if metadata is None:
            return {}
        if not isinstance(metadata, dict):
            raise APIError(400, "metadata must be an object")
        return metadata

    @staticmethod
    def _namespace_for(path: ResourcePath, metadata: dict[str, Any]) -> str:
        if not path.resource_type.namespaced:
            return ""
        body_namespace = metadata.get("namespace")
        if path.namespace is None:
            raise APIError(
                405,
                f"{path.resource_type.resource} must be created in a namespace "
                "(/namespaces/<namespace>/...)",
            )
        if body_namespace not in (None, "", path.namespace):
            raise APIError(
                400,
                "the namespace of the provided object does not match the namespace sent on "
                "the request",
            )
        return path.namespace

    def _require_namespace(self, cluster: str, namespace: str) -> None:
        found = self.store.get(ObjectKey(NAMESPACE_KEY, cluster, "", namespace))
        if found is None:
            raise errors.not_found("namespaces", namespace)
        if found["metadata"].get("deletionTimestamp"):
            raise APIError(
                403,
                f"unable to create new content in namespace {namespace} because it is being "
                "terminated",
                reason="Forbidden",
            )

    @staticmethod
    def _validate(resource_type: ResourceType, obj: dict[str, Any]) -> None:
        """The 422 rules first, then the value types the real server's decoding checks (400)."""
        problems = validate_object(resource_type.kind, obj, namespaced=resource_type.namespaced)
        if problems:
            name = (obj.get("metadata") or {}).get("name") or ""
            summary = ", ".join(f"{p.field}: {p.message}" for p in problems)
            raise APIError(
                422,
                f'{resource_type.kind} "{name}" is invalid: {summary}',
                name=name,
                kind=resource_type.kind,
                group=resource_type.group,
                causes=[p.to_cause() for p in problems],
            )
        schema = schema_for(resource_type.api_version, resource_type.kind)
        check_types(obj, schema, resource_type.kind, resource_type.version)

    @staticmethod
    def _invalid(
        resource_type: ResourceType, obj: dict[str, Any], problems: list[FieldError]
    ) -> APIError:
        """The 422 Invalid of a server-set or immutable field, with the qualified kind."""
        name = (obj.get("metadata") or {}).get("name") or ""
        kind, group = resource_type.kind, resource_type.group
        qualified = f"{kind}.{group}" if group else kind
        return APIError(
            422,
            invalid_message(qualified, name, problems),
            name=name,
            kind=resource_type.kind,
            group=resource_type.group,
            causes=[problem.to_cause() for problem in problems],
        )

    @staticmethod
    def _not_found(resource_type: ResourceType, name: str) -> APIError:
        return errors.not_found(resource_type.resource, name, resource_type.group)

    @staticmethod
    def _conflict(path: ResourcePath) -> APIError:
        return errors.conflict(
            path.resource_type.resource, path.name or "", path.resource_type.group
        )
