"""The HTTP layer: routing, bodies, content negotiation (JSON, YAML, protobuf: ``protobuf``),
discovery, OpenAPI, printing and watch streams.

It turns requests into calls on the API semantics (``api``) and their answers into responses;
it decides nothing about the objects themselves.
"""
