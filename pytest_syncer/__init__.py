"""pytest-syncer: a pytest plugin and harness for testing multi-cluster workload syncers."""

__version__ = "0.1.0"
