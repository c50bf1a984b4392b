"""The catalog configuration, ``catalog.yaml`` at the repository root."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pzcat.errors import CatalogError
from pzcat.safeyaml import load_yaml
from pzcat.vocab import FILE_FORMATS, ROLES, TABLE_FORMATS, TYPE_RULE_DEFAULTS, TYPE_RULES

CONFIG_FILE = "catalog.yaml"


class ProductType(BaseModel):
    """One product type (the Photo-z Server's categories) and its rules.

    The rules a type's entry in ``catalog.yaml`` does not give are the defaults of
    :data:`pzcat.vocab.TYPE_RULES` for a known type, else :data:`pzcat.vocab.TYPE_RULE_DEFAULTS`:

    >>> t = ProductType(name="redshift_catalog", display_name="Redshift", order=1)
    >>> t.required_roles, t.tabular, t.release, t.pipeline
    (['ra', 'dec', 'z'], True, False, 'combine_redshift_catalogs')
    >>> ProductType(name="sed_library", display_name="SEDs", order=9, formats=["fits"]).formats
    ['fits']
    """

    model_config = ConfigDict(extra="forbid")
    name: str
    display_name: str
    order: int
    description: str = ""
    # the defaults below are TYPE_RULE_DEFAULTS; _defaults fills a known type's own first
    required_roles: list[str] = Field(
        default_factory=list,
        description="Column roles every product of the type must associate.",
    )
    allowed_roles: list[str] | None = Field(
        None, description="The only column roles a product may associate (null: any role)."
    )
    formats: list[str] | None = Field(
        None, description="Formats the main file may have (null: any format)."
    )
    tabular: bool = Field(
        False,
        description="The main file must be a table (a format pzcat reads as one).",
    )
    release: bool = Field(
        True,
        description="A product may name a release.",
    )
    pz_code: bool = Field(
        True,
        description="A product may name a pz_code.",
    )
    pipeline: str | None = Field(
        None, description="The pipeline that makes products of the type (provenance.pipeline)."
    )

    def main_formats(self) -> list[str] | None:
        """The formats a main file may have (``formats``, table formats only if ``tabular``);
        None: any."""
        if self.tabular:
            return [f for f in (self.formats or TABLE_FORMATS) if f in TABLE_FORMATS]
        return None if self.formats is None else list(self.formats)

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        base = {**TYPE_RULE_DEFAULTS, **TYPE_RULES.get(str(data.get("name")), {})}
        out = dict(data)
        nullable = ("allowed_roles", "formats", "pipeline")  # null means "any" or "none"
        for key, value in base.items():
            if key not in out or (out[key] is None and key not in nullable):
                out[key] = list(value) if isinstance(value, tuple) else value
        return out

    @model_validator(mode="after")
    def _known_words(self) -> ProductType:
        for key in ("required_roles", "allowed_roles"):
            unknown = sorted(set(getattr(self, key) or []) - set(ROLES))
            if unknown:
                raise ValueError(f"{key}: {unknown} are not roles of {list(ROLES)}")
        unknown = sorted(set(self.formats or []) - set(FILE_FORMATS))
        if unknown:
            raise ValueError(f"formats: {unknown} are not formats of {list(FILE_FORMATS)}")
        if self.allowed_roles is not None and not set(self.required_roles) <= set(
            self.allowed_roles
        ):
            raise ValueError("required_roles must be among allowed_roles")
        return self


class Release(BaseModel):
    """One LSST data release a product may refer to."""

    model_config = ConfigDict(extra="forbid")
    name: str
    display_name: str
    description: str = ""


class Limits(BaseModel):
    """Storage and preview limits."""

    model_config = ConfigDict(extra="forbid")
    max_file_bytes: int = Field(50 * 1024 * 1024, description="In-repository size limit per file.")
    preview_row_cap: int = Field(1_000_000, description="Rows per product loaded into previews.db.")


class GitHubSignIn(BaseModel):
    """Sign-in with GitHub at the server (OAuth web flow) and who may get in."""

    model_config = ConfigDict(extra="forbid")
    client_id: str = Field(
        "",
        description="OAuth App client id (or $PZCAT_GITHUB_CLIENT_ID); the "
        "secret only ever comes from $PZCAT_GITHUB_CLIENT_SECRET.",
    )
    oauth_url: str = Field(
        "https://github.com",
        description="Base of /login/oauth/authorize and "
        "/login/oauth/access_token (a GitHub Enterprise host, or a test stand-in).",
    )
    api_url: str = Field(
        "https://api.github.com", description="Base of /user, /user/orgs, /user/teams."
    )
    orgs: list[str] = Field(
        default_factory=list, description="Members of these organisations get in."
    )
    teams: list[str] = Field(
        default_factory=list, description="Members of these teams (org/team-slug)."
    )
    users: list[str] = Field(default_factory=list, description="These GitHub users get in.")

    def allows_everyone(self) -> bool:
        """No list set: every GitHub user may sign in."""
        return not (self.orgs or self.teams or self.users)


class Access(BaseModel):
    """Who may use the server: sign-in, sessions, a private site."""

    model_config = ConfigDict(extra="forbid")
    github: GitHubSignIn = Field(default_factory=GitHubSignIn)
    session_hours: int = Field(12, ge=1, le=24 * 30, description="How long a sign-in lasts.")
    site_private: bool = Field(
        False, description="The site under /site/ needs a sign-in or a token."
    )
    max_token_days: int = Field(
        365, ge=1, description="Longest expiry of a token made at /-/tokens."
    )


class CatalogConfig(BaseModel):
    """The whole of ``catalog.yaml``."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    site_url: str
    datasette_url: str
    repository_url: str = ""
    product_types: list[ProductType]
    releases: list[Release]
    admins: list[str] = Field(default_factory=list)
    limits: Limits = Field(default_factory=Limits)
    previews_require_token: bool = False
    access: Access = Field(default_factory=Access)

    def product_type(self, name: str) -> ProductType | None:
        """Return the product type called ``name`` (case-insensitive on name and display name)."""
        key = name.strip().lower()
        for t in self.product_types:
            if key in (t.name.lower(), t.display_name.lower()):
                return t
        return None

    def release(self, name: str) -> Release | None:
        """Return the release called ``name`` (case-insensitive on name and display name)."""
        key = name.strip().lower()
        for r in self.releases:
            if key in (r.name.lower(), r.display_name.lower()):
                return r
        return None

    def is_admin(self, user: str | None) -> bool:
        """Whether ``user`` (a GitHub user name) is an admin."""
        return user is not None and user != "" and user.lower() in {a.lower() for a in self.admins}


#: Environment variables that override public URLs of catalog.yaml (a deployment's own URLs).
URL_ENV = {"PZCAT_SITE_URL": "site_url", "PZCAT_DATASETTE_URL": "datasette_url"}


def load_config(root: Path) -> CatalogConfig:
    """Read ``catalog.yaml`` under ``root``.

    ``$PZCAT_SITE_URL`` and ``$PZCAT_DATASETTE_URL``, when set, replace ``site_url`` and
    ``datasette_url`` (a server or a site deployed somewhere else than catalog.yaml says).

    Raises
    ------
    CatalogError
        ``catalog-config`` when the file is missing, not YAML or not of the schema.
    """
    path = Path(root) / CONFIG_FILE
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise CatalogError(
            "catalog-config", f"{path} not found: is this a pzcat repository?", file=str(path)
        ) from None
    config = parse_config(text, str(path))
    overrides = {key: os.environ[env] for env, key in URL_ENV.items() if os.environ.get(env)}
    return config.model_copy(update=overrides) if overrides else config


def parse_config(text: str | bytes, source: str = CONFIG_FILE) -> CatalogConfig:
    """Parse the text of a ``catalog.yaml`` (``source`` names it in errors), with the safe loader.

    Raises
    ------
    CatalogError
        ``catalog-config`` when the text is not YAML or not of the schema.
    """
    try:
        data = load_yaml(text, source, error=CatalogError)
    except CatalogError as exc:
        raise CatalogError("catalog-config", f"{exc.message} [{exc.code}]", file=source) from None
    try:
        return CatalogConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise CatalogError(
            "catalog-config", f"{source}: {key}: {first['msg']}", file=source, key=key
        ) from None
