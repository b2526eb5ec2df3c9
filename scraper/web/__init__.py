"""The Datasette side: serving the archive, its metadata, plugin, templates and stylesheet."""
