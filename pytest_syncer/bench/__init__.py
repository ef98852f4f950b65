"""`pytest-syncer bench`: the command, the figures it computes, the charts it draws, and the
locust glue that runs the load tests against an environment."""


class BenchError(RuntimeError):
    """`bench` cannot run: no checkout to run from, or the plot extra is missing."""
