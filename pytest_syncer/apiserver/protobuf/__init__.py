"""Kubernetes protobuf (``application/vnd.kubernetes.protobuf``).

:mod:`wire` reads and writes the protobuf wire format.
"""
