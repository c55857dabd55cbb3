"""The revisions, oldest first: 0001 is the schema the first release's own runner built."""
