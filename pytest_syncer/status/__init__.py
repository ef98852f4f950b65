"""Status collection below, aggregation above, and a kwok-style simulator."""
