"""`pzcat form apply`: issue forms -> a branch and a pull request, or coded errors and no branch.

Files are served by a loopback HTTP server; the REST API by the loopback stand-in; the remote is
a bare repository next to the checkout, as `origin`.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from gh_helpers import ADMIN, OUTSIDER, commit_all, git, outputs, write_csv

from pzcat.catalog import Catalog
from pzcat.validate import validate_catalog
from pzcat_github.forms import COMBINE_FIELDS, SUBMIT_FIELDS, parse_body

#: The id a new product of the demo catalog gets (one more than the highest demo id).
NEXT_ID = Catalog.open(Path(__file__).resolve().parents[2]).next_id()
TEMPLATES = Path(__file__).resolve().parents[2] / ".github" / "ISSUE_TEMPLATE"


def form_labels(template: str) -> list[str]:
    data = yaml.safe_load((TEMPLATES / template).read_text())
    return [item["attributes"]["label"] for item in data["body"] if item["type"] != "markdown"]


def test_forms_ask_for_what_the_parser_reads(repo_catalog) -> None:
    assert form_labels("submit-product.yml") == list(SUBMIT_FIELDS)
    assert form_labels("combine-run.yml") == list(COMBINE_FIELDS)
    data = yaml.safe_load((TEMPLATES / "submit-product.yml").read_text())
    types = next(i for i in data["body"] if i.get("id") == "type")["attributes"]["options"]
    assert types == [t.display_name for t in repo_catalog.config.product_types]


def body(template: str, values: dict[str, str]) -> str:
    """The Markdown GitHub renders for a submitted form (### label, blank line, value)."""
    parts = []
    for label in form_labels(template):
        value = values.get(label, "")
        parts.append(f"### {label}\n\n{value if value else '_No response_'}")
    return "\n\n".join(parts) + "\n"


def test_parse_body_reads_what_github_renders() -> None:
    parsed = parse_body(
        body("submit-product.yml", {"Product name": "X", "Official": "- [X] Mark as official"})
    )
    assert parsed["Product name"] == "X" and parsed["Release"] == ""
    assert parsed["Official"].startswith("- [X]")


@pytest.fixture
def files_server(tmp_path):
    """A loopback HTTP server of tmp/served/."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def origin(repo, tmp_path) -> Path:
    bare = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    git(repo, "remote", "add", "origin", str(bare))
    return bare


def issue_event(
    number: int,
    template: str,
    values: dict[str, str],
    author: str = OUTSIDER,
    label: str = "submission",
) -> dict:
    return {
        "action": "opened",
        "repository": {"full_name": "lsst-pz/pzcat", "default_branch": "main"},
        "issue": {
            "number": number,
            "user": {"login": author},
            "labels": [{"name": label}],
            "title": "Submit",
            "body": body(template, values),
        },
    }


def submission(url: str, **over: str) -> dict[str, str]:
    values = {
        "Product name": "Form sample",
        "Product type": "Reference Redshift Catalog",
        "Description": "Submitted through the form.",
        "Files": url,
        "Format of the main file": "Guess from the file name",
        "Licence": "CC-BY-4.0",
    }
    values.update(over)
    return values


def branches(root: Path) -> list[str]:
    return [
        b
        for b in git(root, "for-each-ref", "--format=%(refname:short)", "refs/heads").split()
        if b.startswith("form/")
    ]


@pytest.fixture
def apply(run, actions_env, github, origin, repo):
    def call(event: dict, *extra: str):
        env = actions_env(event, GITHUB_API_URL=github.url, GITHUB_TOKEN=github.token)
        out = run("form", "apply", "--root", str(repo), "--allow-loopback", *extra, env=env)
        return out, env

    return call


def test_a_form_becomes_a_valid_pull_request_branch(
    apply, files_server, github, origin, repo, tmp_path
) -> None:
    served, base = files_server
    csv = write_csv(served / "form_sample.csv", n=40)
    sha = hashlib.sha256(csv.read_bytes()).hexdigest()
    values = submission(f"{base}/form_sample.csv sha256={sha}", **{"Column association": "id=id"})
    head_before = git(repo, "rev-parse", "HEAD")
    out, env = apply(issue_event(21, "submit-product.yml", values))
    assert out.exit_code == 0, out.output
    # pushed to the remote, the checkout left as it was
    assert branches(origin) == ["form/issue-21"] and branches(repo) == []
    assert (
        git(repo, "rev-parse", "HEAD") == head_before and git(repo, "status", "--porcelain") == ""
    )
    pr = next(p for p in github.pulls.values() if p["head"]["ref"] == "form/issue-21")
    assert pr["base"]["ref"] == "main" and "Closes #21" in pr["body"]
    answer = github.comments[21][-1]["body"]
    assert pr["html_url"] in answer
    assert outputs(env)["pr"] == pr["html_url"]
    # the branch holds a valid product with the file's facts and the form's fields
    check = tmp_path / "check"
    git(tmp_path, "clone", "-q", "--branch", "form/issue-21", str(origin), str(check))
    catalog = Catalog.open(check)
    m = catalog.get(NEXT_ID)
    assert m.name == "Form sample" and m.uploaded_by == OUTSIDER and not m.official
    assert m.files[0].sha256 == sha and m.files[0].n_rows == 40
    assert {"ra", "dec", "z", "id"} <= set(m.columns)
    assert validate_catalog(catalog).valid


def test_a_file_over_the_repository_limit_is_registered_by_url(
    apply, files_server, origin, repo, tmp_path
) -> None:
    cfg = yaml.safe_load((repo / "catalog.yaml").read_text())
    cfg["limits"]["max_file_bytes"] = 1000
    (repo / "catalog.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    commit_all(repo, "small limit")
    served, base = files_server
    csv = write_csv(served / "big.csv", n=200)
    out, _ = apply(
        issue_event(22, "submit-product.yml", submission(f"{base}/big.csv")), "--base", "main"
    )
    assert out.exit_code == 0, out.output
    check = tmp_path / "check"
    git(tmp_path, "clone", "-q", "--branch", "form/issue-22", str(origin), str(check))
    m = Catalog.open(check).get(NEXT_ID)
    main = m.files[0]
    assert main.url == f"{base}/big.csv" and main.path is None
    assert main.size == csv.stat().st_size and main.n_rows == 200
    assert main.sha256 == hashlib.sha256(csv.read_bytes()).hexdigest()
    assert not (check / "products" / m.internal_name).exists()


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("path in the name", "form-bad-name"),
        ("unknown type", "unknown-product-type"),
        ("404", "download-failed"),
        ("over the limit", "download-too-large"),
        ("wrong sha256", "checksum-mismatch"),
        ("official by an outsider", "official-not-admin"),
        ("no files", "form-field-missing"),
        ("not http", "bad-url"),
    ],
)
def test_bad_forms_give_a_coded_error_and_no_branch(
    apply, files_server, github, origin, repo, case, code
) -> None:
    served, base = files_server
    write_csv(served / "ok.csv")
    write_csv(served / "large.csv", n=5000)
    values = {
        "path in the name": submission(f"{base}/ok.csv", **{"Product name": "../../etc/passwd"}),
        "unknown type": submission(f"{base}/ok.csv", **{"Product type": "Spaceship"}),
        "404": submission(f"{base}/missing.csv"),
        "over the limit": submission(f"{base}/large.csv"),
        "wrong sha256": submission(f"{base}/ok.csv sha256={'0' * 64}"),
        "official by an outsider": submission(f"{base}/ok.csv", Official="- [X] Mark as official"),
        "no files": submission(""),
        "not http": submission("file:///etc/passwd"),
    }[case]
    out, env = apply(issue_event(30, "submit-product.yml", values), "--max-download-bytes", "20000")
    assert out.exit_code == 1, out.output
    assert f"error[{code}]" in out.output
    assert branches(origin) == [] and branches(repo) == []
    assert git(repo, "status", "--porcelain") == ""
    assert not any(p["head"]["ref"].startswith("form/") for p in github.pulls.values())
    answer = github.comments[30][-1]["body"]
    assert f"`{code}`" in answer and "nothing was created" in answer
    assert outputs(env)["codes"].split(",")[0] == code


def test_an_admin_may_submit_official(apply, files_server, origin, tmp_path) -> None:
    served, base = files_server
    write_csv(served / "ok.csv")
    out, _ = apply(
        issue_event(
            23,
            "submit-product.yml",
            submission(f"{base}/ok.csv", Official="- [X] Mark as official"),
            author=ADMIN,
        )
    )
    assert out.exit_code == 0, out.output
    check = tmp_path / "check"
    git(tmp_path, "clone", "-q", "--branch", "form/issue-23", str(origin), str(check))
    assert Catalog.open(check).get(NEXT_ID).official


def test_a_combine_form_becomes_a_pending_run(apply, origin, github, tmp_path) -> None:
    values = {
        "Name of the combined catalog": "Form combination",
        "Input products": "1\n2",
        "Duplicates": "remove",
        "Flag cut": "3",
        "Output format": "parquet",
        "Description": "From the form.",
    }
    out, _ = apply(issue_event(24, "combine-run.yml", values, label="combine-request"))
    assert out.exit_code == 0, out.output
    check = tmp_path / "check"
    git(tmp_path, "clone", "-q", "--branch", "form/issue-24", str(origin), str(check))
    m = Catalog.open(check).get(NEXT_ID)
    assert m.status == "pending" and m.provenance.config["duplicates"] == "remove"
    assert m.provenance.config["cut"] == 3
    assert [i.id for i in m.provenance.inputs] == [1, 2]


def test_an_issue_that_is_not_a_form(apply) -> None:
    event = issue_event(25, "combine-run.yml", {}, label="bug")
    out, _ = apply(event)
    assert out.exit_code == 1 and "form-unknown" in out.output
