"""`crossingguard serve`: options and their environment variables, start-up errors, and a real
process on the tiny model that answers and exits cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from servekit import free_port
from typer.testing import CliRunner

from crossingguard.cli.app import app

runner = CliRunner()


def test_help_names_every_environment_variable() -> None:
    result = runner.invoke(app, ["serve", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for name in (
        "POLICY", "MODEL", "BACKEND", "THREADS", "HOST", "PORT", "MAX_BATCH_SIZE", "MAX_WAIT_MS",
        "MAX_QUEUE", "TIMEOUT", "MAX_BODY_BYTES", "MAX_PROMPTS", "MAX_PROMPT_CHARS",
        "MAX_CONDITIONS", "CACHE_SIZE", "API_KEYS_FILE", "CORS_ORIGINS", "GRACEFUL_TIMEOUT",
        "LOG_LEVEL",
    ):  # fmt: skip
        assert f"CROSSINGGUARD_{name}" in result.output, name
    assert "CROSSINGGUARD_API_KEYS=" in result.output  # keys: file or environment only
    assert "--api-key " not in result.output


def test_bad_settings_exit_2_before_binding_a_port(tmp_path: Path) -> None:
    bad_policy = runner.invoke(app, ["serve", "--policy", "moderaton"])
    assert bad_policy.exit_code == 2 and "unknown pack 'moderaton'" in bad_policy.output
    short_key = runner.invoke(app, ["serve"], env={"CROSSINGGUARD_API_KEYS": "abc"})
    assert (
        short_key.exit_code == 2 and "at least 16 random characters" in short_key.output
    )
    no_file = runner.invoke(app, ["serve", "--api-keys-file", str(tmp_path / "none")])
    assert no_file.exit_code == 2 and "cannot read it" in no_file.output
    level = runner.invoke(app, ["serve", "--log-level", "loud"])
    assert level.exit_code == 2 and "--log-level" in level.output


def test_serve_process_answers_and_drains_on_sigterm(tiny_model_dir: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "CROSSINGGUARD_PORT": str(port),
        "CROSSINGGUARD_MODEL": str(tiny_model_dir),
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", "from crossingguard.cli.app import main; main()", "serve"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        ready = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                ready = httpx.get(url + "/readyz", timeout=2)
                if ready.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        assert ready is not None and ready.status_code == 200, (
            proc.stdout and proc.stdout.read()
        )
        assert ready.json()["policies"] == ["moderation"]
        r = httpx.post(url + "/v1/moderations", json={"input": "hello"}, timeout=30)
        assert r.status_code == 200 and len(r.json()["results"][0]["categories"]) == 13
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    # uvicorn re-raises the captured SIGTERM once shutdown is complete
    assert proc.returncode in (0, -signal.SIGTERM), out
    assert "Application shutdown complete" in out
    assert "finishing 0 queued request(s)" in out


def test_environment_variables_configure_the_service(
    monkeypatch, tmp_path: Path
) -> None:
    import uvicorn

    captured: dict = {}
    monkeypatch.setattr(
        uvicorn, "run", lambda app, **kw: captured.update(app=app, **kw)
    )
    keys = tmp_path / "keys"
    keys.write_text("file-key-0123456789abcdef\n", encoding="utf-8")
    env = {
        "CROSSINGGUARD_POLICY": "prompt-injection moderation",
        "CROSSINGGUARD_HOST": "0.0.0.0",
        "CROSSINGGUARD_PORT": "9123",
        "CROSSINGGUARD_MAX_BATCH_SIZE": "8",
        "CROSSINGGUARD_MAX_WAIT_MS": "12.5",
        "CROSSINGGUARD_TIMEOUT": "3",
        "CROSSINGGUARD_API_KEYS_FILE": str(keys),
        "CROSSINGGUARD_API_KEYS": "env-key-0123456789abcdef",
        "CROSSINGGUARD_CORS_ORIGINS": "https://a.example https://b.example",
        "CROSSINGGUARD_GRACEFUL_TIMEOUT": "7",
        "CROSSINGGUARD_PRECISION": "int8",
    }
    result = runner.invoke(app, ["serve", "--max-prompts", "5"], env=env)
    assert result.exit_code == 0, result.output
    settings = captured["app"].state.service.settings
    assert settings.policies == ("prompt-injection", "moderation")
    assert settings.default_policy == "prompt-injection"
    assert (settings.max_batch_size, settings.max_wait_ms, settings.timeout_s) == (
        8,
        12.5,
        3.0,
    )
    assert settings.max_prompts == 5  # the option and the environment together
    assert settings.precision == "int8"
    assert settings.api_keys == (
        "file-key-0123456789abcdef",
        "env-key-0123456789abcdef",
    )
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert (
        captured["host"],
        captured["port"],
        captured["timeout_graceful_shutdown"],
    ) == ("0.0.0.0", 9123, 7)
    assert "env-key" not in repr(settings)
    no_keys = runner.invoke(
        app, ["serve", "--host", "0.0.0.0"], env={"CROSSINGGUARD_API_KEYS": ""}
    )
    assert no_keys.exit_code == 0 and "without API keys" in no_keys.output
