"""Every long-running pytest-syncer process, both sides of one convention.

A child (`child.py`) logs to stderr, prints one JSON "ready" line on stdout once it serves, and
stops cleanly on SIGTERM; a parent (`parent.py`) starts it in its own process group, waits for
that line and signals the group. `proc.py` reads /proc to tell our processes from strangers
that reused a pid. `lifetime.py` is the `async with` mixin every long-lived object of the
package shares. Standard library only, so the plugin's session-start sweep stays cheap.
"""
