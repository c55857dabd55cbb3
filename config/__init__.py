"""The installation's settings (one typed object, :mod:`config.settings`)."""
