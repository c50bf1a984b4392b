"""HATS output written by the workers, one task per HATS pixel (no task holds the whole output).

The layout is the one ``lsdb``'s ``to_hats`` writes, built with the ``hats`` library's own
pieces (spatial index, pixel alignment, partition info, skymap, properties, Parquet metadata)::

    <name>.hats/collection.properties
    <name>.hats/<name>/hats.properties, properties, partition_info.csv, skymap.fits
    <name>.hats/<name>/dataset/Norder=<k>/Dir=<d>/Npix=<p>.parquet, _metadata, _common_metadata

Steps (graphs in :func:`pipelines.combine.graph.run_graphs`):

1. each *finish* task computes ``_healpix_29`` (``hats.pixel_math.spatial_index``) and writes
   its output rows sorted by it (then CRD_ID) as Parquet row groups of ``SORT_ROW_GROUP`` rows
   with statistics, plus the counts of its rows per order-``HIST_ORDER`` pixel (summed on the
   workers by a tree reduction);
2. the driver turns the counts into HATS pixels with ``hats.pixel_math.generate_alignment``
   (at most ``hats_pixel_rows`` rows each, the configuration key; the counts, so the pixels, do not depend on the pieces,
   the workers or the executor);
3. one task per HATS pixel reads, from every piece's sorted file, only the row groups whose
   ``_healpix_29`` range meets the pixel, and writes the pixel's leaf: rows sorted by
   ``_healpix_29`` then CRD_ID, row groups of ``writers.CHUNK_ROWS``, zstd, no pandas metadata;
4. one task writes the catalog's metadata files from the leaves' footers and the counts, pins
   ``hats_creation_date`` (the run's times are in the manifest) and renames the folder into
   place.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.combine import writers
from pipelines.combine.errors import PipelineError
from pzcat.files import publish

HIST_ORDER = 8
PIXEL_ROWS = 1_000_000
SORT_ROW_GROUP = 4_096  # a pixel task reads about twice the rows it needs
INDEX = "_healpix_29"
INDEX_ORDER = 29


def with_index(table: pa.Table) -> pa.Table:
    """``table`` with ``_healpix_29`` appended, sorted by it then by CRD_ID."""
    from hats.pixel_math.spatial_index import compute_spatial_index

    ra = table.column("ra").to_numpy()
    dec = table.column("dec").to_numpy()
    index = np.asarray(compute_spatial_index(ra, dec), dtype=np.int64)
    table = table.append_column(INDEX, pa.array(index, pa.int64()))
    return table.sort_by([(INDEX, "ascending"), ("CRD_ID", "ascending")])


def write_sorted(table: pa.Table, path: Path) -> np.ndarray:
    """Write a piece's output rows for HATS (sorted, with statistics); its order-8 counts."""
    table = with_index(table)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, compression="none", row_group_size=SORT_ROW_GROUP)
    tmp.replace(path)
    pix = table.column(INDEX).to_numpy() >> (2 * (INDEX_ORDER - HIST_ORDER))
    return np.bincount(pix, minlength=12 * 4**HIST_ORDER).astype(np.int64)


def pixels_of(counts: np.ndarray, threshold: int = PIXEL_ROWS) -> list[tuple[int, int, int]]:
    """HATS pixels ``(order, pixel, rows)`` of the output, in (order, pixel) order."""
    from hats.pixel_math import generate_alignment

    try:
        alignment = generate_alignment(
            counts, highest_order=HIST_ORDER, lowest_order=0, threshold=threshold
        )
    except ValueError as exc:  # an order-8 pixel holds more rows than the threshold
        raise PipelineError(
            "invalid-config",
            f"hats_pixel_rows {threshold} is too small: an order-{HIST_ORDER} pixel holds "
            f"{int(counts.max())} output rows ({exc})",
        ) from exc
    seen = {tuple(int(v) for v in a) for a in alignment if a is not None}
    return sorted(p for p in seen if p[2] > 0)


def _index_range(order: int, pixel: int) -> tuple[int, int]:
    shift = 2 * (INDEX_ORDER - order)
    return pixel << shift, (pixel + 1) << shift


def leaf_path(catalog_dir: Path, order: int, pixel: int) -> Path:
    """The leaf file of a HATS pixel (``hats.io.paths`` layout)."""
    from hats.io import paths
    from hats.pixel_math import HealpixPixel

    return Path(str(paths.pixel_catalog_file(catalog_dir, HealpixPixel(order, pixel))))


def write_pixel(
    catalog_dir: str, order: int, pixel: int, sorted_paths: list[str], dtypes: dict[str, object]
) -> int:
    """Write one HATS pixel's leaf from the row groups of every piece that meet it; its rows."""
    lo, hi = _index_range(order, pixel)
    schema = writers.arrow_schema(dtypes).append(pa.field(INDEX, pa.int64()))
    parts = []
    for path in sorted_paths:
        pf = pq.ParquetFile(path)
        column = pf.schema_arrow.get_field_index(INDEX)
        groups = []
        for g in range(pf.metadata.num_row_groups):
            stats = pf.metadata.row_group(g).column(column).statistics
            if stats is None or not stats.has_min_max or (stats.max >= lo and stats.min < hi):
                groups.append(g)
        if not groups:
            continue
        table = pf.read_row_groups(groups, columns=schema.names)
        index = table.column(INDEX)
        inside = pc.and_(pc.greater_equal(index, lo), pc.less(index, hi))
        parts.append(table.filter(inside))
    table = pa.concat_tables(parts) if parts else schema.empty_table()
    table = table.cast(schema).sort_by([(INDEX, "ascending"), ("CRD_ID", "ascending")])
    target = leaf_path(Path(catalog_dir), order, pixel)
    target.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(target, schema, compression="zstd", write_statistics=True) as writer:
        for block in writers.rechunk_tables([table]):
            writer.write_table(
                block.replace_schema_metadata(None), row_group_size=writers.CHUNK_ROWS
            )
    return table.num_rows


def finish_catalog(
    out_dir: str,
    name: str,
    pixels: list[tuple[int, int, int]],
    counts_path: str,
    building: str,
) -> str:
    """Write the metadata files of the catalog built in ``building``; rename it into place."""
    from hats.catalog import PartitionInfo, TableProperties
    from hats.catalog.dataset.collection_properties import CollectionProperties
    from hats.io import write_parquet_metadata
    from hats.io.skymap import write_skymap
    from hats.pixel_math import HealpixPixel

    root = Path(building)
    catalog_dir = root / name
    healpix = [HealpixPixel(o, p) for o, p, _ in pixels]
    write_parquet_metadata(catalog_dir)
    info = PartitionInfo.from_healpix(healpix)
    info.write_to_file(catalog_dir / "partition_info.csv")
    write_skymap(np.load(counts_path), catalog_dir)
    provenance = TableProperties.new_provenance_dict(catalog_dir, builder="pzcat combine")
    properties = TableProperties(
        catalog_name=name,
        catalog_type="object",
        total_rows=int(sum(r for _, _, r in pixels)),
        ra_column="ra",
        dec_column="dec",
        healpix_column=INDEX,
        healpix_order=INDEX_ORDER,
        npix_suffix=".parquet",
        skymap_order=HIST_ORDER,
        hats_max_rows=int(max((r for _, _, r in pixels), default=0)),
        moc_sky_fraction=float(f"{info.calculate_fractional_coverage():.5g}"),
        hats_order=int(info.get_highest_order()) if pixels else None,
        **provenance,
    )
    properties.to_properties_file(catalog_dir)
    collection = CollectionProperties(
        name=name,
        hats_primary_table_url=name,
        **CollectionProperties.new_provenance_dict(root, builder="pzcat combine"),
    )
    collection.to_properties_file(root)
    writers.pin_hats_dates(root)
    target = Path(out_dir) / f"{name}.{writers.EXTENSIONS['hats']}"
    if target.exists():
        shutil.rmtree(target)
    publish(root, target, durable=False)  # the one rename home (pzcat.files); no fsync, as before
    return str(target)
