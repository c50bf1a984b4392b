"""Pipelines of pzcat: Combine Redshift Catalogs lives in :mod:`pipelines.combine`."""
