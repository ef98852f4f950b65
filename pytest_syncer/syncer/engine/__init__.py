"""The spec syncer, deletion flow and heartbeat."""
