"""Conflict strategies for objects that differ below (docs/conflicts.md has the four
strategies and their annotations).

strategy, retained = strategy_for(upstream_obj, default=ConflictStrategy.UPSTREAM_WINS)
decision = resolver_for(strategy, retained).resolve(desired, existing, context)
"""

from pytest_syncer.syncer.conflict.annotations import (
    CONFLICT_STRATEGY_ANNOTATION,
    RETAIN_FIELDS_ANNOTATION,
    ConflictAnnotationError,
    InvalidRetainFieldsError,
    UnknownConflictStrategyError,
    parse_strategy,
    strategy_for,
)
from pytest_syncer.syncer.conflict.drift import drifted_fields
from pytest_syncer.syncer.conflict.resolver import StrategyResolver, owner_key, resolver_for

__all__ = [
    "CONFLICT_STRATEGY_ANNOTATION",
    "RETAIN_FIELDS_ANNOTATION",
    "ConflictAnnotationError",
    "InvalidRetainFieldsError",
    "StrategyResolver",
    "UnknownConflictStrategyError",
    "drifted_fields",
    "owner_key",
    "parse_strategy",
    "resolver_for",
    "strategy_for",
]
