"""An embedded Kubernetes-compatible API server serving many logical clusters from one process."""
