"""Alembic's environment for the store: run on the caller's connection, inside its transaction.

The store (:func:`layers.stores.postgis.schema.migrate`) passes the connection and the
store's schema in ``config.attributes``; the version table lives in that schema, so each
store schema migrates on its own.  Revisions receive ``schema`` as their argument.
"""

from alembic import context

config = context.config
connection = config.attributes["connection"]
schema = config.attributes["schema"]
context.configure(connection=connection, version_table_schema=schema, version_table="alembic_version",
                  transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations(schema=schema)
