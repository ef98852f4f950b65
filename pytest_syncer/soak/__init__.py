"""`pytest-syncer soak`: steady upstream churn while faults drawn from a seed hit the real
processes, then one audit of everything that should have come out of it.

The same seed gives the same operations and the same faults in the same order (their timing
follows the machine). The parts:

- `churn`: seeded creates, updates, relabels, deletes and namespace drops upstream; it keeps in
  `model` what it asked each object to be.
- `faults`: every fault kind in a seeded order on the real processes, each healed before the
  next, including conflict storms on the churn's objects.
- `audit`: compares the churn's model with the upstream, every target and the aggregates, so
  nothing is judged by the syncer's own logic.
- `command`: `pytest-syncer soak` runs churn and faults side by side, waits for the audit to
  converge and prints one JSON line; `progress` is what it says on the way, on stderr.
"""
