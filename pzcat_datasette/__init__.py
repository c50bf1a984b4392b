"""pzcat's serving stack: the Datasette previews, token-gated downloads and the site under /site/.

A separate package of the ``pzcat`` distribution that depends on the core (:mod:`pzcat`), never the
other way round. Datasette finds the plugin through its own entry point group (``datasette``:
``pzcat = "pzcat_datasette.plugin"`` in ``pyproject.toml``); ``pzcat`` finds the commands through
``pzcat.commands``.
"""
