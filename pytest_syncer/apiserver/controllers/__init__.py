"""The server's background controllers: garbage collection, namespace and CRD deletion.

Each is a queue controller (``base``) fed by store events; they act through the object API
(``api``), which never imports them back: the server wires them in.
"""
