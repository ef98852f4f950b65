"""A lean HTTP/1.1 client (`pool.py`), below both parts that speak to API servers: the tunnel's
forwarder and `KubeClient`; its chunked-body decoder (`chunked.py`, no I/O) also reads the load
test's watch streams. It imports nothing of the package but `process/`, so the tunnel and
`KubeClient` share it without importing each other."""
