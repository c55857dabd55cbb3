"""``python -m cli``: the same as the ``onemap`` command."""

from cli.main import main

raise SystemExit(main())
