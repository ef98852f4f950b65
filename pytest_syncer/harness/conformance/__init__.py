"""The e2e suite as a conformance suite: named behaviours, their profiles, the report and the
opt-in service levels. Standard library only, so the plugin can import it on every run."""
