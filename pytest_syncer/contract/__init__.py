"""What the harness and any syncer share, written once: kcp's names and hashes, the labels and
annotations, the SyncTarget and SyncStatus shapes, the heartbeat, the default resources and a
target's wiring. It imports nothing outside itself, and the harness imports nothing of the
reference syncer: a defect in the syncer cannot move the harness's expectation with it.
"""
