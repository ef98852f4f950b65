"""``python -m pytest_syncer`` is the ``pytest-syncer`` command."""

from pytest_syncer.cli import main

raise SystemExit(main())
