"""Status collection below, aggregation above, and a kwok-style simulator.

The pure aggregation API is exported here; the collector (syncer side), the aggregator (hub
side) and the simulator live in their own modules, imported where they run.
"""

from pytest_syncer.status.rules import TargetStatus, aggregate, register_rule, unregister_rule

__all__ = ["TargetStatus", "aggregate", "register_rule", "unregister_rule"]
