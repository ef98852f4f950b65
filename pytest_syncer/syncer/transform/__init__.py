"""What each sync target receives: pure object transforms.

Import from the modules: `pipeline` (the registry and the two built-in pipelines), `status`
(`status_to_upstream`), `namespaces`, and one module per step family. The names and hashes and
the typed errors are kcp's and the harness's too, so they live in `pytest_syncer.contract`. The
package itself re-exports nothing, so importing one step never imports them all.
"""
