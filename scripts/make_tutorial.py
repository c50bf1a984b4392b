"""Write docs/notebooks/pzserver_tutorial.ipynb: the original tutorial's path on the demo catalog.

Each code cell carries ``metadata.pzcat.calls``: the numbers (1-53) of the tutorial's client calls
it makes, counted as in ``tests/api/tutorial.py``. Run: ``.venv/bin/python scripts/make_tutorial.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "docs" / "notebooks" / "pzserver_tutorial.ipynb"

CELLS: list[tuple[str, str, list[int]]] = [
    (
        "md",
        """# Photo-z Server tutorial, on a pzcat catalog

This notebook walks the path of LIneA's Photo-z Server tutorial (`pzserver_tutorial.ipynb`) on the
demo catalog of this repository, served by `pzcat serve`. It runs unchanged with LIneA's client
(`pip install pzserver`) or with pzcat's own (`from pzcat import PzServer`, no pandas pin), chosen by
`$PZ_CLIENT`. Start a server first:

```bash
export PZCAT_SECRET=...                      # any 16+ characters, never committed
pzcat serve --build                          # http://127.0.0.1:8001/
export PZ_TOKEN=$(pzcat token create $USER --scope write)
export PZ_HOST=http://127.0.0.1:8001/api/
```

Differences from the original server are said where they show: product ids are the demo's;
uploads and edits become git branches (the product says *Registering* until merged); the Training
Set Maker is not available on pzcat servers.""",
        [],
    ),
    (
        "code",
        """import os
from pathlib import Path

if os.environ.get("PZ_CLIENT", "pzcat") == "pzserver":
    from pzserver import PzServer  # LIneA's client, unchanged
else:
    from pzcat import PzServer  # pzcat's, same calls""",
        [],
    ),
    (
        "code",
        """pz_server = PzServer(token=os.environ["PZ_TOKEN"], host=os.environ.get("PZ_HOST", "http://127.0.0.1:8001/api/"))""",
        [1],
    ),
    ("md", "## Product types, releases and products", []),
    ("code", "pz_server.display_product_types()", [2]),
    ("code", "pz_server.display_releases()", [3]),
    ("code", "pz_server.display_products_list()", [4]),
    (
        "code",
        """pz_server.display_products_list(filters={"release": "DP1", "product_type": "Training Set"})""",
        [5],
    ),
    ("code", """pz_server.display_products_list(filters={"product_type": "estimates"})""", [6]),
    (
        "code",
        """training_results = pz_server.get_products_list(filters={"product_type": "training results"})
[p["internal_name"] for p in training_results]""",
        [7],
    ),
    (
        "md",
        "## One product: metadata, download, data\n\nThe demo's training set (HDF5) stands for the original's product 30.",
        [],
    ),
    (
        "code",
        """product_id = 6
pz_server.display_product_metadata(product_id)""",
        [8],
    ),
    (
        "code",
        """downloads = Path(os.environ.get("PZ_DOWNLOADS", "."))
pz_server.download_product(product_id, save_in=downloads)""",
        [9],
    ),
    (
        "code",
        """data = pz_server.get_product(product_id).to_pandas()
data""",
        [10],
    ),
    ("code", "data.describe()", [11]),
    (
        "code",
        """internal_name = pz_server.get_product_metadata(product_id)["internal_name"]
internal_name""",
        [12],
    ),
    (
        "md",
        "## Upload a product\n\nOn pzcat the upload becomes a branch of the catalog's repository (and a pull request when the server is configured for it); the product is *Registering* until merged.",
        [],
    ),
    (
        "code",
        """examples = Path(os.environ.get("PZ_EXAMPLES", "examples"))
data_to_upload = {
    "name": "upload example",
    "product_type": "redshift_catalog",
    "main_file": str(examples / "upload_example.csv"),
    "auxiliary_files": [str(examples / "upload_example.html")],
    "description": "Synthetic redshifts uploaded by the tutorial.",
}
upload = pz_server.upload(**data_to_upload)""",
        [13],
    ),
    ("code", "upload.product_id", [14]),
    ("code", """upload.make_columns_association({"RA": "RA", "DEC": "Dec", "Z": "z"})""", [15]),
    ("code", "upload.save()", [16]),
    ("code", "pz_server.display_product_metadata(upload.product_id)", [17]),
    ("code", "product_object = pz_server.get_product_object(upload.product_id)", [18]),
    ("code", "product_object.attributes", [19]),
    ("code", """product_object.update_description("test update description")""", [20]),
    ("code", """product_object.attributes["description"]""", [21]),
    ("code", "pz_server.display_product_metadata(upload.product_id)", [22]),
    ("code", "pz_server.delete_product(upload.product_id)", [23]),
    ("md", "## Combine Redshift Catalogs", []),
    ("code", """crc = pz_server.combine_redshift_catalogs("crc example")""", [24]),
    ("code", "type(crc)", [25]),
    ("code", "crc.check_status()", [26]),
    ("code", "crc.summary()", [27]),
    ("code", "crc.pipeline.parameters", [28]),
    (
        "code",
        """flags = os.environ.get("PZ_FLAGS", str(Path("..", "..", "pipelines", "data", "flags_translation.yaml")))
crc.set_config({"combine_type": "concatenate_and_mark_duplicates",
                "flags_translation_file": flags,
                "z_flag_homogenized_value_to_cut": 3.0})
crc.summary()""",
        [29],
    ),
    (
        "code",
        """pz_server.display_products_list(filters={"internal_name__in": [
    "1_vvds_final_release_sample", "2_2dflens_final_release_sample",
    "3_desi_dr1_in_dp1_fields_sample", "4_6dfgs_dr3_sample"]})""",
        [30],
    ),
    (
        "code",
        """crc.append_catalog(1)
crc.append_catalog(2)
crc.append_catalog(3)""",
        [31],
    ),
    ("code", "crc.summary()", [32]),
    ("code", "crc.run()", [33]),
    ("code", "crc.summary()", [34]),
    ("code", """crc.output.get("id"), crc.output.get("internal_name")""", [35]),
    (
        "code",
        """import time

for _ in range(120):                 # the tutorial repeats this cell by hand
    status = crc.check_status()
    if status not in ("Pending", "Running"):
        break
    time.sleep(2)
status""",
        [36],
    ),
    (
        "code",
        """catalog_name = crc.output.get("internal_name")
my_new_specz_catalog = pz_server.get_product(catalog_name)""",
        [37],
    ),
    ("code", "type(my_new_specz_catalog)", [38]),
    ("code", "specz = my_new_specz_catalog.to_pandas()", [39]),
    ("code", "specz.head()", [40]),
    ("code", "specz.describe()", [41]),
    (
        "code",
        """import matplotlib.pyplot as plt

plt.scatter(specz["ra"], specz["dec"], s=2)
plt.xlabel("ra")
plt.ylabel("dec")""",
        [42],
    ),
    (
        "md",
        "## Training Set Maker\n\npzcat servers list this pipeline but do not run it: `run_and_wait` answers *not available on this server*. The last cells read the demo's own training set instead.",
        [],
    ),
    ("code", """tsm = pz_server.training_set_maker("tsm example")""", [43]),
    (
        "code",
        """pz_server.display_products_list(filters={"internal_name__in": ["3_desi_dr1_in_dp1_fields_sample"]})""",
        [44],
    ),
    ("code", "tsm.set_redshift(3)", [45]),
    ("code", "pz_server.display_releases()", [46]),
    ("code", """tsm.set_release(name="dp1")""", [47]),
    (
        "code",
        """tsm.set_config({"flux_type": "cmodel", "dereddening": "sfd", "convert_flux_to_mag": True})""",
        [48],
    ),
    ("code", "tsm.summary()", [49]),
    (
        "code",
        """try:
    pz_server.run_and_wait(tsm)
    tsm_ran = True
except Exception as error:  # noqa: BLE001 - any client: "not available on this server"
    tsm_ran = False
    print(error)""",
        [50],
    ),
    (
        "code",
        """tsm.summary()
training_set_id = tsm.output.get("id") if tsm.output else 6   # the demo's training set""",
        [51],
    ),
    ("code", "my_new_training_set = pz_server.get_product(training_set_id)", [52]),
    (
        "code",
        """training = my_new_training_set.to_pandas()
plt.figure()
plt.hist(training["z"], bins=30)
plt.xlabel("z")""",
        [53],
    ),
]


def notebook() -> dict:
    cells = []
    for kind, source, calls in CELLS:
        lines = source.splitlines(keepends=True)
        if kind == "md":
            cells.append({"cell_type": "markdown", "metadata": {}, "source": lines})
        else:
            cells.append(
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "outputs": [],
                    "metadata": {"pzcat": {"calls": calls}},
                    "source": lines,
                }
            )
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(notebook(), indent=1) + "\n", encoding="utf-8")
    print(OUT)
