"""Tokens and signed links: signing, scopes, expiry, revocation, forgery."""

from __future__ import annotations

import base64
import json

import pytest

from pzcat_datasette import tokens
from pzcat_datasette.tokens import (
    TokenError,
    create_token,
    load_revoked,
    make_link,
    parse_duration,
    revoke_token,
    token_id,
    verify_link,
    verify_token,
)


def test_roundtrip_and_claims(secret):
    tok = create_token("alice", scope="download", expires="2h", now=1000)
    claims = verify_token(tok, scope="download", now=1001)
    assert (claims.user, claims.scope, claims.expires) == ("alice", "download", 1000 + 7200)
    assert len(claims.id) == 16 and token_id(tok) == claims.id
    assert secret not in tok


def test_download_token_reads_but_read_token_does_not_download(secret):
    assert verify_token(create_token("a", scope="download"), scope="read").scope == "download"
    with pytest.raises(TokenError) as exc:
        verify_token(create_token("a", scope="read"), scope="download")
    assert (exc.value.code, exc.value.status) == ("token-scope", 403)


def test_expired(secret):
    tok = create_token("a", expires="1m", now=1000)
    with pytest.raises(TokenError) as exc:
        verify_token(tok, now=1060)
    assert (exc.value.code, exc.value.status) == ("token-expired", 401)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-3] + ("AAA" if not t.endswith("AAA") else "BBB"),
        lambda t: t.replace("pzc1.", "pzc2."),
        lambda t: t + ".x",
        lambda t: "",
        lambda t: "garbage",
        lambda t: t.split(".")[0] + "." + t.split(".")[1] + ".",
    ],
)
def test_forged_or_malformed(secret, mangle):
    with pytest.raises(TokenError) as exc:
        verify_token(mangle(create_token("a")))
    assert exc.value.code == "token-invalid"


def test_payload_tampering_is_detected(secret):
    tok = create_token("alice", scope="read")
    prefix, payload, sig = tok.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["s"] = "download"
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    with pytest.raises(TokenError) as exc:
        verify_token(f"{prefix}.{forged}.{sig}")
    assert exc.value.code == "token-invalid"


def test_other_secret_rejected(secret, monkeypatch):
    tok = create_token("a")
    monkeypatch.setenv("PZCAT_SECRET", "another-secret-0123456789")
    with pytest.raises(TokenError) as exc:
        verify_token(tok)
    assert exc.value.code == "token-invalid"


@pytest.mark.parametrize("value", [None, "", "short"])
def test_missing_secret_is_a_coded_error(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("PZCAT_SECRET", raising=False)
    else:
        monkeypatch.setenv("PZCAT_SECRET", value)
    with pytest.raises(TokenError) as exc:
        create_token("a")
    assert exc.value.code == "token-secret-missing"


def test_revocation(secret, tmp_path):
    tok = create_token("a")
    assert load_revoked(tmp_path) == frozenset()
    tid = revoke_token(tmp_path, token_id(tok), by="admin", reason="lost laptop")
    assert revoke_token(tmp_path, tok) == tid  # idempotent, accepts the token itself
    text = (tmp_path / "tokens" / "revoked.yaml").read_text()
    assert tid in text and tok not in text and text.count(tid) == 1
    with pytest.raises(TokenError) as exc:
        verify_token(tok, revoked=load_revoked(tmp_path))
    assert exc.value.code == "token-revoked"
    with pytest.raises(TokenError) as exc:
        revoke_token(tmp_path, "not-an-id")
    assert exc.value.code == "usage"


def test_broken_revocation_list(tmp_path):
    (tmp_path / "tokens").mkdir()
    (tmp_path / "tokens" / "revoked.yaml").write_text("revoked: [: bad")
    with pytest.raises(TokenError) as exc:
        load_revoked(tmp_path)
    assert exc.value.code == "revocation-list"


def test_repo_revocation_list_parses():
    from pathlib import Path

    assert isinstance(load_revoked(Path(__file__).resolve().parents[2]), frozenset)


def test_durations():
    assert parse_duration("30d") == 30 * 86400
    assert parse_duration("12h") == 43200
    assert parse_duration("15m") == 900
    assert parse_duration(" 45s ") == 45
    assert parse_duration("2w") == 14 * 86400
    for bad in ("", "1y", "-1d", "0h", "soon", "1.5h"):
        with pytest.raises(TokenError) as exc:
            parse_duration(bad)
        assert exc.value.code == "bad-duration"


def test_links(secret):
    link = make_link("1_a", "1h", now=1000)
    assert verify_link(link, "1_a", now=1001).product == "1_a"
    with pytest.raises(TokenError) as exc:
        verify_link(link, "2_b", now=1001)
    assert exc.value.code == "link-invalid"
    with pytest.raises(TokenError) as exc:
        verify_link(link, "1_a", now=1000 + 3600)
    assert exc.value.code == "token-expired"
    url = make_link("1_a", "1h", base_url="http://x:1/")
    assert url.startswith("http://x:1/-/download/1_a.zip?link=pzl1.")


def test_link_and_token_are_not_interchangeable(secret):
    link = make_link("1_a", "1h")
    tok = create_token("a")
    with pytest.raises(TokenError):
        verify_token(link)
    with pytest.raises(TokenError):
        verify_link(tok, "1_a")
    # even with the prefix swapped, the derived keys differ
    with pytest.raises(TokenError):
        verify_token("pzc1." + link.split(".", 1)[1])


def test_compare_is_constant_time(secret, monkeypatch):
    calls = []
    real = tokens.hmac.compare_digest
    monkeypatch.setattr(tokens.hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    verify_token(create_token("a"))
    assert calls
