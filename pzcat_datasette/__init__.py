"""pzcat's Datasette package (the serving stack); see ``datasette/README.md``."""
