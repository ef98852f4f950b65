"""The upstream side: one process serving the targets' tunnels and the proxy through them, and
the status aggregator that folds every target's SyncStatus into the upstream workload."""
