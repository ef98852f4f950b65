"""Status rules and the kwok-style simulator.

The pure aggregation API (a rule per kind) is exported here. The processes that move status
live where they run: the collector beside the syncer's engine
(`syncer/engine/status_collector.py`), the aggregator in the hub (`hub/aggregator.py`), and the
simulator in `status/simulator.py`.
"""

from pytest_syncer.status.rules import TargetStatus, aggregate, register_rule, unregister_rule

__all__ = ["TargetStatus", "aggregate", "register_rule", "unregister_rule"]
