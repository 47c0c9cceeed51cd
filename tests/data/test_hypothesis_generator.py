"""The optional hypothesis generator against a fake OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

from crossingguard.errors import DataError, InputError
from crossingguard.toolkit.data.hypothesis_generator import (
    generate_hypotheses,
    parse_hypotheses,
)

CANNED = (
    "1. The prompt requests instructions for making a weapon\n"
    "- The prompt asks how to build a bomb.\n"
    '"The prompt seeks help acquiring a firearm illegally"\n'
    "The prompt requests instructions for making a weapon\n"
    "ok\n"
    "Here are more:\n"
    "The prompt asks about assembling a gun from parts\n"
)


class _Handler(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict]] = []
    mode = "ok"

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(
            {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
        )
        if self.mode == "http500":
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b"boom")
            return
        if self.mode == "badjson":
            data = b"not json"
        elif self.mode == "noshape":
            data = json.dumps({"error": "x"}).encode()
        else:
            data = json.dumps(
                {"choices": [{"message": {"role": "assistant", "content": CANNED}}]}
            ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def server() -> Iterator[str]:
    _Handler.requests = []
    _Handler.mode = "ok"
    httpd = HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_generates_parsed_deduplicated_hypotheses(server: str) -> None:
    out = generate_hypotheses(
        "weapons_cbrne",
        "weapons and explosives",
        base_url=server,
        model="fake",
        api_key="sk-test",
        n=5,
    )
    assert out == [
        "The prompt requests instructions for making a weapon",
        "The prompt asks how to build a bomb",
        "The prompt seeks help acquiring a firearm illegally",
        "The prompt asks about assembling a gun from parts",
    ]
    req = _Handler.requests[0]
    assert req["path"] == "/v1/chat/completions"
    assert req["body"]["model"] == "fake"
    assert "weapons_cbrne" in req["body"]["messages"][-1]["content"]
    assert req["auth"] == "Bearer sk-test"


def test_base_url_with_v1_and_n_limit(server: str) -> None:
    out = generate_hypotheses(
        "x_cat", "desc", base_url=server + "/v1/", model="fake", n=2
    )
    assert len(out) == 2
    assert _Handler.requests[0]["path"] == "/v1/chat/completions"
    assert _Handler.requests[0]["auth"] is None


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("http500", "answered HTTP 500: boom"),
        ("badjson", "returned invalid JSON"),
        ("noshape", r"without choices\[0\].message.content"),
    ],
)
def test_endpoint_failures_are_data_errors(
    server: str, mode: str, message: str
) -> None:
    _Handler.mode = mode
    with pytest.raises(DataError, match=message):
        generate_hypotheses("c", "d", base_url=server, model="fake")


def test_unreachable_and_bad_arguments() -> None:
    with pytest.raises(DataError, match="unreachable"):
        generate_hypotheses(
            "c", "d", base_url="http://127.0.0.1:9", model="m", timeout=2
        )
    with pytest.raises(InputError, match="n: must be in"):
        generate_hypotheses("c", "d", base_url="http://x", model="m", n=0)
    with pytest.raises(InputError, match="base_url"):
        generate_hypotheses("c", "d", base_url="localhost:8000", model="m")


def test_parse_drops_short_long_and_headers() -> None:
    text = (
        "Sure!\nThe prompt asks for help harming another person\n"
        + "The prompt "
        + "x" * 300
    )
    assert parse_hypotheses(text) == ["The prompt asks for help harming another person"]
