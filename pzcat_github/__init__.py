"""pzcat on GitHub: the pull-request gate's report, the sticky comment, issue forms, pipeline runs.

Everything a workflow under ``.github/workflows/`` runs is a ``pzcat`` command defined here
(:mod:`pzcat_github.cli`), so the YAML stays thin and the logic is tested without GitHub. The core
package ``pzcat`` never imports this one.

Modules
-------
actions
    The Actions environment: event payload, step summary, step outputs.
api
    A small client of GitHub's REST API (comments, pull requests), base URL from
    ``$GITHUB_API_URL``.
prreport
    The Markdown report of a pull request's changed products, with pictures.
comment
    The one sticky comment that carries the report (found by a hidden marker).
fetch
    Streamed downloads with a size limit and a sha256 check.
forms
    Issue forms (submit a product, request a combination) -> a branch and a pull request.
pipeline
    Whether a pull request's pending runs may execute; reproducing changed pipeline products.
"""
