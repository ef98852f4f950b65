"""Cluster providers: embedded, kubeconfig, kind."""
