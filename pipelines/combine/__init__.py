"""Combine Redshift Catalogs: one redshift sample from several redshift catalogs.

Modules (one noun each): :mod:`config` (the run's configuration), :mod:`inputs` (inputs and
reading them), :mod:`expr` (safe expressions), :mod:`flags` (flags translation),
:mod:`footprint` (DP1 fields), :mod:`prepare` (per-partition preparation), :mod:`graph` (the
Dask graph and the neighbour search), :mod:`dedup` (duplicate resolution), :mod:`writers`
(output files), :mod:`plan` (checks before work) and :mod:`runner` (``run_combine``).
"""
