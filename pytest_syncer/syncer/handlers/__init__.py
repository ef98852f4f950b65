"""Per-kind knowledge: what is spec, what status goes up, when an object is ready."""
