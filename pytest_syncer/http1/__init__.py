"""A lean HTTP/1.1 client (`pool.py`), below both parts that speak to API servers: the tunnel's
forwarder and `KubeClient`. It imports nothing else of the package, so neither of them has to
import the other to share it."""
