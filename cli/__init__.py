"""The command line: ``onemap --help`` (or ``python -m cli``)."""
