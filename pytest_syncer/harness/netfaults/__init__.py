"""Network faults on every link of a syncer: a TCP proxy per link, and what it does to bytes."""
