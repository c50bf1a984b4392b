"""``from pzcat import PzServer``: LIneA's ``pzserver`` client, for a pzcat catalog.

The same names, signatures and return shapes as ``pzserver.PzServer`` 0.3.7 (records as the
Photo-z Server API writes them, :mod:`pzcat.records`), against three kinds of source:

- a pzcat server's API: ``PzServer(token, host="http://127.0.0.1:8001/api/")`` (everything: reads,
  downloads, uploads and edits as submissions, Combine Redshift Catalogs runs);
- a published static site: ``PzServer(host="https://lsst-pz.github.io/pzcat/")`` (browsing and
  metadata from its ``api/*.json``; downloads through the server the site names, with a token);
- a local clone: ``PzServer(host=".")`` (everything, writes straight through :mod:`pzcat.products`
  and :mod:`pzcat.runs`, as the ``pzcat`` commands do).

Unlike the original client, lists are complete (every page is read), filters are checked by the one
implementation of :mod:`pzcat.filters` in every mode, ``get_product`` reads with pzcat's readers
(any pandas) and returns an :class:`astropy.table.Table`, and ``display_*`` print readable text
outside Jupyter.

The package, by noun: :mod:`.transport` (HTTP: JSON calls, streamed downloads, coded errors),
:mod:`.sources` (a server's ``/api/``, a site, a clone: one interface), :mod:`.display`,
:mod:`.catalogs` (``SpeczCatalog``, ``TrainingSet``), :mod:`.products` (``PzProduct``,
``PzUpload``), :mod:`.processes` (``CRCProcess``, ``TSMProcess``), :mod:`.downloads` (reading a
downloaded main file) and :mod:`.client` (``PzServer``).

Examples
--------
>>> from pzcat import PzServer
>>> pz = PzServer(host=".")                                  # doctest: +SKIP
>>> pz.display_products_list(filters={"release": "DP1"})     # doctest: +SKIP
>>> table = pz.get_product(6)                                # doctest: +SKIP
"""

from __future__ import annotations

from pzcat.pzserver.catalogs import Catalog, SpeczCatalog, TrainingSet
from pzcat.pzserver.client import PzServer
from pzcat.pzserver.display import display_table
from pzcat.pzserver.downloads import FORMATS, MAX_IN_MEMORY_PRODUCT_SIZE_BYTES
from pzcat.pzserver.errors import PzServerError
from pzcat.pzserver.processes import CRCProcess, Pipeline, Process, TSMProcess
from pzcat.pzserver.products import SYSTEM_COLUMNS, PzProduct, PzUpload, RequiredColumnsException
from pzcat.pzserver.sources import ENVIRONMENTS, ApiSource, CloneSource, SiteSource, open_source

__all__ = [
    "CRCProcess",
    "ENVIRONMENTS",
    "FORMATS",
    "MAX_IN_MEMORY_PRODUCT_SIZE_BYTES",
    "SYSTEM_COLUMNS",
    "ApiSource",
    "Catalog",
    "CloneSource",
    "Pipeline",
    "Process",
    "PzProduct",
    "PzServer",
    "PzServerError",
    "PzUpload",
    "RequiredColumnsException",
    "SiteSource",
    "SpeczCatalog",
    "TSMProcess",
    "TrainingSet",
    "display_table",
    "open_source",
]
