"""The reference syncer: spec down, status up, conflicts resolved, tunnel kept open."""
