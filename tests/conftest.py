"""Plugins the whole suite uses: ``pytester`` runs pytest inside tests of the plugin and harness.

Enabled here once; pytest honours ``pytest_plugins`` only in the root conftest.
"""

pytest_plugins = ["pytester"]
