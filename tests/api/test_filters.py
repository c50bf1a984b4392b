"""The one implementation of the original's ProductFilter semantics (pzcat.filters)."""

from __future__ import annotations

import pytest

from pzcat.catalog import Catalog
from pzcat.filters import FilterError, client_filters, filter_products
from pzcat.records import product_record


@pytest.fixture(scope="module")
def rows(repo_catalog: Catalog):
    return [product_record(repo_catalog.config, m) for m in repo_catalog.manifests()]


def ids(rows, **params) -> list[int]:
    return sorted(r["id"] for r in filter_products(rows, params))


def test_icontains_on_display_name_and_name(rows) -> None:
    assert ids(rows, product_type_name="estimates") == [9]
    assert ids(rows, product_type_name="REDSHIFT_cat") == [1, 2, 3, 4, 5, 12, 13, 14, 15, 16]
    assert ids(rows, release_name="dp1") == [6, 7, 8, 9, 10, 11]
    assert ids(rows, release_name="DP0.2") == []


def test_comma_lists_are_anded_and_or_forms_ored(rows) -> None:
    assert ids(rows, product_type_name="training,set") == [6]
    assert ids(rows, product_type_name="training,estimates") == []
    assert ids(rows, product_type_name__or="training,estimates") == [6, 7, 9]
    assert ids(rows, product_name__or="vvds,6dfgs") == [1, 4]


def test_exact_and_in_filters(rows) -> None:
    assert ids(rows, internal_name="1_vvds_final_release_sample") == [1]
    assert ids(rows, internal_name="1_vvds") == []
    assert ids(rows, internal_name__in="1_vvds_final_release_sample,6_dp1_ecdfs_training_set") == [
        1,
        6,
    ]
    assert ids(rows, official_product="True") == [1, 6]
    assert ids(rows, official_product="0") == [2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
    assert ids(rows, release__isnull="true") == [1, 2, 3, 4, 5, 12, 13, 14, 15, 16]
    assert ids(rows, product_type__in="2,5") == [6, 9]
    assert ids(rows, status=1, uploaded_by="pz-coord") == [1, 6, 11, 12, 13, 14, 15, 16]
    assert ids(rows, user="cblake") == [2]


def test_search_and_ordering(rows) -> None:
    assert ids(rows, search="ecdfs pz-user") == [8, 9, 10]
    by_name = [r["display_name"] for r in filter_products(rows, {"ordering": "display_name"})]
    assert by_name == sorted(by_name)
    assert [r["id"] for r in filter_products(rows, {"ordering": "-id"})][:2] == [16, 15]


@pytest.mark.parametrize(
    "params, code",
    [
        ({"bogus": "1"}, "api-unknown-filter"),
        ({"official_product": "maybe"}, "api-bad-filter-value"),
        ({"release__in": "dp1"}, "api-bad-filter-value"),
        ({"ordering": "size"}, "api-bad-filter-value"),
    ],
)
def test_bad_queries_are_coded_errors(rows, params, code) -> None:
    with pytest.raises(FilterError) as err:
        filter_products(rows, params)
    assert err.value.code == code


def test_client_filter_names_are_mapped() -> None:
    assert client_filters({"release": "DP1", "product_type": ["a", "b"]}) == {
        "release_name": "DP1",
        "product_type_name": "a,b",
    }
    with pytest.raises(FilterError) as err:
        client_filters({"nope": 1})
    assert err.value.code == "api-unknown-filter"
