"""HTTP services over the store: the OGC API for other departments' systems."""
