"""API keys (401), request limits (413), CORS off by default, prompt text kept out of INFO logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from servekit import KEY, make_app, running

from crossingguard.errors import ConfigError
from crossingguard.serve.auth import ApiKeys
from crossingguard.serve.settings import ServeSettings, read_api_keys

pytestmark = pytest.mark.anyio
BODY = {"prompts": ["hello"], "conditions": ["hello"]}


# ---------------------------------------------------------------------- keys
async def test_with_keys_v1_needs_a_valid_bearer_token_and_probes_stay_open() -> None:
    async with running(make_app(api_keys=(KEY,))) as client:
        missing = await client.post("/v1/check", json=BODY)
        wrong = await client.post(
            "/v1/check", json=BODY, headers={"Authorization": "Bearer " + "x" * 24}
        )
        basic = await client.post(
            "/v1/check", json=BODY, headers={"Authorization": "Basic abc"}
        )
        ok = await client.post(
            "/v1/check", json=BODY, headers={"Authorization": f"Bearer {KEY}"}
        )
        probes = [await client.get(p) for p in ("/healthz", "/readyz", "/metrics", "/")]
    for r, code in (
        (missing, "missing_api_key"),
        (wrong, "invalid_api_key"),
        (basic, "missing_api_key"),
    ):
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"
        assert r.json()["error"]["code"] == code
        assert r.json()["error"]["type"] == "authentication_error"
    assert ok.status_code == 200
    assert [p.status_code for p in probes] == [200, 200, 200, 200]


async def test_without_keys_the_api_is_open() -> None:
    async with running(make_app()) as client:
        assert (await client.post("/v1/check", json=BODY)).status_code == 200


def test_api_keys_match_exactly() -> None:
    keys = ApiKeys((KEY, "another-key-0123456789"))
    assert keys.accepts(KEY) and keys.accepts("another-key-0123456789")
    assert (
        not keys.accepts(KEY[:-1])
        and not keys.accepts(KEY + "x")
        and not keys.accepts("")
    )
    assert not ApiKeys(()).enabled


def test_keys_come_from_a_file_and_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    path.write_text(f"# service keys\n{KEY}\n\n", encoding="utf-8")
    env = {"CROSSINGGUARD_API_KEYS": "env-key-0123456789ab, second-env-key-0123"}
    assert read_api_keys(path, env) == (
        KEY,
        "env-key-0123456789ab",
        "second-env-key-0123",
    )
    assert read_api_keys(None, {}) == ()
    with pytest.raises(ConfigError, match="cannot read it"):
        read_api_keys(tmp_path / "missing.txt", {})
    (tmp_path / "empty.txt").write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no keys in it"):
        read_api_keys(tmp_path / "empty.txt", {})
    with pytest.raises(ValueError, match="at least 16 random characters"):
        ServeSettings(api_keys=("short",))


# ---------------------------------------------------------------------- limits
async def test_limits_answer_413_with_the_limit_and_the_fix() -> None:
    app = make_app(
        max_prompts=2, max_prompt_chars=50, max_conditions=2, max_body_bytes=2048
    )
    async with running(app) as client:
        many = await client.post("/v1/check", json={"prompts": ["a", "b", "c"]})
        long = await client.post("/v1/check", json={"prompts": ["a" * 51]})
        conds = await client.post(
            "/v1/check",
            json={
                "prompts": ["a"],
                "conditions": ["x", {"text": "y", "hypotheses": ["z"]}],
            },
        )
        pairs = await client.post(
            "/v1/classify",
            json={"pairs": [{"premise": "p", "hypothesis": "h" * 51}]},
        )
        moderation = await client.post(
            "/v1/moderations", json={"input": ["a", "b", "c"]}
        )
        body = await client.post("/v1/check", json={"prompts": ["a" * 3000]})

        async def chunks():
            yield b'{"prompts": ["'
            for _ in range(5):
                yield b"a" * 1000
            yield b'"]}'

        streamed = await client.post(
            "/v1/check", content=chunks(), headers={"content-type": "application/json"}
        )
        fine = await client.post("/v1/check", json={"prompts": ["a" * 50, "b"]})
    assert fine.status_code == 200
    checks = [
        (many, "prompts", "--max-prompts"),
        (long, "prompts -> 0", "--max-prompt-chars"),
        (conds, "conditions", "--max-conditions"),
        (pairs, "pairs -> 0 -> hypothesis", "--max-prompt-chars"),
        (moderation, "input", "--max-prompts"),
    ]
    for response, param, option in checks:
        assert response.status_code == 413, response.text
        assert response.json()["error"]["param"] == param
        assert option in response.json()["error"]["message"]
    for response in (body, streamed):
        assert response.status_code == 413
        assert "--max-body-bytes" in response.json()["error"]["message"]


# ---------------------------------------------------------------------- CORS
async def test_cors_is_off_unless_origins_are_configured() -> None:
    preflight = {
        "Origin": "https://app.example.com",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    async with running(make_app()) as client:
        off = await client.options("/v1/check", headers=preflight)
        off_get = await client.get(
            "/healthz", headers={"Origin": "https://app.example.com"}
        )
    async with running(make_app(cors_origins=("https://app.example.com",))) as client:
        on = await client.options("/v1/check", headers=preflight)
        other = await client.options(
            "/v1/check", headers={**preflight, "Origin": "https://evil.example"}
        )
    assert "access-control-allow-origin" not in off.headers
    assert "access-control-allow-origin" not in off_get.headers
    assert on.status_code == 200
    assert on.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "access-control-allow-origin" not in other.headers


# ---------------------------------------------------------------------- logging
async def test_prompt_text_is_logged_at_debug_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "my-secret-prompt-text-42"
    async with running(make_app()) as client:
        with caplog.at_level(logging.INFO, logger="crossingguard.serve"):
            await client.post(
                "/v1/check", json={"prompts": [secret], "conditions": ["x"]}
            )
            await client.post("/v1/moderations", json={"input": secret})
            await client.post(
                "/v1/classify", json={"pairs": [{"premise": secret, "hypothesis": "x"}]}
            )
        info_text = caplog.text
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="crossingguard.serve"):
            await client.post(
                "/v1/check", json={"prompts": [secret], "conditions": ["x"]}
            )
    assert "check: 1 item(s)" in info_text and "moderations: 1 item(s)" in info_text
    assert secret not in info_text
    assert secret in caplog.text
