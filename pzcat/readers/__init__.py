"""One table reader per format; :mod:`pzcat.tables` opens them by format name."""
