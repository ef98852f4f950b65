"""The query parameters of writes: ``dryRun``, ``fieldManager``, ``fieldValidation``, ``force``.

kubectl sends ``fieldManager`` (``kubectl-create``, ``kubectl-client-side-apply``, ...) and
``fieldValidation=Strict`` on every write; server-side apply needs a ``fieldManager``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from multidict import MultiMapping

from pytest_syncer.apiserver.api.errors import APIError

DRY_RUN_ALL = "All"
FIELD_VALIDATION_CHOICES = ("Ignore", "Warn", "Strict")
#: What the server assumes without a fieldValidation parameter (Kubernetes 1.27+).
DEFAULT_FIELD_VALIDATION = "Warn"
MAX_FIELD_MANAGER_LENGTH = 128
_TRUE = {"true", "1"}


@dataclass(frozen=True)
class WriteOptions:
    dry_run: bool = False
    field_manager: str = "unknown"
    field_validation: str = DEFAULT_FIELD_VALIDATION
    force: bool = False


def _invalid(field: str, value: str, detail: str) -> APIError:
    return APIError(
        422,
        f"{field}: Invalid value: {value!r}: {detail}",
        causes=[{"reason": "FieldValueInvalid", "message": detail, "field": field}],
    )


def default_manager(user_agent: str) -> str:
    """The manager of a write naming none: the user agent's product, as Kubernetes derives it."""
    return user_agent.split("/", 1)[0].strip()[:MAX_FIELD_MANAGER_LENGTH] or "unknown"


def parse_write_options(
    query: MultiMapping[str], *, user_agent: str = "", apply: bool = False
) -> WriteOptions:
    """Read and check the write parameters; bad values are a 400 or 422 as Kubernetes answers."""
    dry_run = _dry_run(query.getall("dryRun", []))
    manager = query.get("fieldManager", "")
    if len(manager) > MAX_FIELD_MANAGER_LENGTH:
        raise _invalid(
            "fieldManager", manager, f"must be at most {MAX_FIELD_MANAGER_LENGTH} characters"
        )
    if any(not character.isprintable() for character in manager):
        raise _invalid("fieldManager", manager, "must consist of printable characters")
    validation = query.get("fieldValidation") or DEFAULT_FIELD_VALIDATION
    if validation not in FIELD_VALIDATION_CHOICES:
        raise APIError(
            400,
            f"fieldValidation must be one of {', '.join(FIELD_VALIDATION_CHOICES)}, "
            f"not {validation!r}",
        )
    force_text = query.get("force")
    force = force_text is not None and force_text.lower() in _TRUE
    if force_text is not None and not apply:
        raise _invalid("force", force_text, "may not be specified for non-apply patch")
    if apply and not manager:
        raise _invalid("fieldManager", manager, "is required for apply requests")
    return WriteOptions(dry_run, manager or default_manager(user_agent), validation, force)


#: The options of a write that sets none (internal writes, tests).
DEFAULT_WRITE = WriteOptions()


def is_dry_run(delete_options: dict[str, Any] | None) -> bool:
    """Whether DeleteOptions ask for a dry run (kubectl puts ``dryRun`` in the body of deletes)."""
    values = (delete_options or {}).get("dryRun") or []
    if not isinstance(values, list):
        raise APIError(400, "DeleteOptions.dryRun must be a list")
    return _dry_run(values)


def is_delete_dry_run(query: MultiMapping[str], delete_options: dict[str, Any] | None) -> bool:
    """A DELETE is a dry run when its query or its DeleteOptions body says so."""
    return parse_write_options(query).dry_run or is_dry_run(delete_options)


def _dry_run(values: list[Any]) -> bool:
    for value in values:
        if value != DRY_RUN_ALL:
            raise APIError(
                400,
                f'Invalid dry run value: unsupported dry run value "{value}"; '
                f"only {DRY_RUN_ALL} is supported",
            )
    return bool(values)
