"""What each sync target receives: pure object transforms (seed branch sync-04).

Import from the modules: `pipeline` (the registry and the two built-in pipelines), `naming`
(keys, locators, namespace names), `status` (`status_to_upstream`), `namespaces`, `errors`, and
one module per step family. The package itself re-exports nothing, because `interfaces.py`
builds on `naming` and `errors` and an eager import here would make that a cycle.
"""
