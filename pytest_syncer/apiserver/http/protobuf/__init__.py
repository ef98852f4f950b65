"""Kubernetes protobuf (``application/vnd.kubernetes.protobuf``) for the built-in kinds.

``fields.json`` carries the field numbers of the Kubernetes API's ``generated.proto`` files as
data; :mod:`wire` reads and writes the wire format, :mod:`codec` maps JSON documents to
messages and back, :mod:`envelope` adds the ``k8s\\x00`` + ``runtime.Unknown`` wrapper and the
watch stream's frames.
"""
