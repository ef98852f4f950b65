"""Object validation with the real API server's rules and messages, a module per API group.

``kinds.validate_object`` runs the metadata rules every kind runs, then the kind's own rules
from its group's module; ``rules`` and ``field_errors`` are the machinery they share.
"""
