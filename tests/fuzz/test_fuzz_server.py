"""Generated requests for the HTTP service (FastAPI TestClient, fake scorer): request-shaped
JSON with odd text and wrong types, random JSON, raw bytes, ``\\ud800`` escapes, NaN, limits.

Every answer is 200 with the promised shape, or a 4xx with the one JSON error envelope
(``{"error": {"message", "type", "param", "code"}}``); never a 500, never a dropped connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the service fuzz needs the serve extra")

import json
import time
import warnings

import yaml
from fakes import FakeScorer
from fastapi.testclient import TestClient
from fuzz_strategies import dump_json, json_tree, long_text, plain_text, short_text
from fuzzcount import record
from hypothesis import given
from hypothesis import strategies as st

from crossingguard.guard.types import ThresholdWarning
from crossingguard.serve import ServeSettings, create_app

pytestmark = pytest.mark.fuzz

POLICIES = ["shop", "prompt-injection"]
text = st.one_of(plain_text, plain_text, short_text, long_text)
maybe = st.one_of(
    st.none(),
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.lists(st.integers(), max_size=1),
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("serve-fuzz")
    shop = folder / "shop.yaml"
    shop.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "name": "shop",
                "conditions": [
                    {"id": "weapons", "hypotheses": ["buy a gun"]},
                    {"id": "refund", "hypotheses": ["want a refund"], "action": "flag"},
                ],
                "routes": [
                    {"id": "billing", "hypotheses": ["my bill is wrong"]},
                    {"id": "tech", "hypotheses": ["the app crashes"]},
                ],
            }
        ),
        encoding="utf-8",
    )
    fake = FakeScorer()
    settings = ServeSettings(policies=(str(shop), "prompt-injection"), warmup=False)
    app = create_app(settings, scorer_factory=lambda model: fake)
    # the fake model has no fitted thresholds: the guard says so once, as it should
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ThresholdWarning)
        with TestClient(app, raise_server_exceptions=False) as test_client:
            deadline = time.monotonic() + 30
            while test_client.get("/readyz").status_code != 200:
                assert time.monotonic() < deadline, "the app never became ready"
                time.sleep(0.01)
            yield test_client


threshold = st.one_of(
    st.floats(0, 1),
    st.floats(0, 1),
    st.floats(allow_nan=True, allow_infinity=True),
    maybe,
)
condition = st.one_of(
    text,
    st.fixed_dictionaries(
        {"text": st.one_of(text, maybe)},
        optional={
            "threshold": threshold,
            "fire_on": st.sampled_from(["entailment", "contradiction", "neutral"]),
            "hypotheses": st.lists(st.one_of(text, maybe), max_size=3),
            "aggregation": st.sampled_from(["max", "mean", "min", "sum"]),
            "action": st.sampled_from(["block", "flag", "log", "allow"]),
            "name": st.one_of(text, st.none()),
        },
    ),
    maybe,
)
# mostly-valid lists, so that many requests get past validation to the guard
valid = st.lists(st.one_of(plain_text, plain_text, short_text), min_size=1, max_size=4)
prompts = st.one_of(
    valid,
    valid,
    st.lists(st.one_of(text, text, text, maybe), max_size=6),
    st.integers(0, 80).map(lambda n: ["hello world"] * n),  # around the 64-prompt limit
    text,
    maybe,
)
policy = st.one_of(
    st.none(),
    st.sampled_from(POLICIES),
    st.sampled_from([*POLICIES, "nope", ""]),
    short_text,
    maybe,
)

bodies = {
    "/v1/moderations": st.fixed_dictionaries(
        {
            "input": st.one_of(
                valid,
                text,
                st.lists(
                    st.one_of(
                        text,
                        st.fixed_dictionaries(
                            {"type": st.sampled_from(["text", "image_url", ""])},
                            optional={"text": st.one_of(text, maybe)},
                        ),
                        maybe,
                    ),
                    max_size=5,
                ),
                maybe,
            )
        },
        optional={
            "model": st.one_of(
                st.sampled_from(["omni-moderation-latest", *POLICIES]), policy
            ),
            "user": short_text,
        },
    ),
    "/v1/check": st.fixed_dictionaries(
        {"prompts": prompts},
        optional={
            "policy": policy,
            "conditions": st.one_of(
                valid,
                st.lists(condition, max_size=5),
                st.integers(0, 40).map(lambda n: ["a gun"] * n),
                maybe,
            ),
            "threshold": threshold,
        },
    ),
    "/v1/classify": st.fixed_dictionaries(
        {
            "pairs": st.one_of(
                st.lists(
                    st.fixed_dictionaries(
                        {
                            "premise": st.one_of(plain_text, short_text),
                            "hypothesis": plain_text,
                        }
                    ),
                    min_size=1,
                    max_size=4,
                ),
                st.lists(
                    st.one_of(
                        st.fixed_dictionaries(
                            {
                                "premise": st.one_of(text, maybe),
                                "hypothesis": st.one_of(text, maybe),
                            }
                        ),
                        st.lists(text, max_size=2),
                        maybe,
                    ),
                    max_size=5,
                ),
                maybe,
            )
        }
    ),
    "/v1/route": st.fixed_dictionaries(
        {"prompts": prompts}, optional={"policy": policy}
    ),
}


@st.composite
def request(draw: st.DrawFn) -> tuple[str, str, bytes, dict[str, str]]:
    kind = draw(st.sampled_from(["shaped"] * 6 + ["tree", "bytes", "other"]))
    path = draw(st.sampled_from(list(bodies)))
    headers = {
        "content-type": draw(
            st.sampled_from(
                ["application/json"] * 12
                + ["text/plain", "application/x-www-form-urlencoded", ""]
            )
        )
    }
    if kind == "shaped":
        return "POST", path, dump_json(draw(bodies[path])).encode("ascii"), headers
    if kind == "tree":
        return "POST", path, dump_json(draw(json_tree)).encode("ascii"), headers
    if kind == "bytes":
        return "POST", path, draw(st.binary(max_size=80)), headers
    method = draw(st.sampled_from(["GET", "PUT", "DELETE", "POST"]))
    other = draw(
        st.sampled_from(
            [
                "/v1/policies",
                "/healthz",
                "/readyz",
                "/metrics",
                "/v1/nope",
                "/v1/check/..",
                "/%ff",
            ]
        )
    )
    return method, other, b"", headers


@given(req=request())
def test_server(
    client: TestClient, req: tuple[str, str, bytes, dict[str, str]]
) -> None:
    method, path, body, headers = req
    response = client.request(method, path, content=body, headers=headers)
    record(
        "server",
        f"{path} {response.status_code}"
        if path in bodies
        else f"other {response.status_code}",
    )
    status = response.status_code
    assert status in (200, 400, 404, 405, 413, 422), (status, response.text[:300])
    if path == "/metrics" and status == 200:
        return
    data = response.json()
    if status != 200:
        error = data["error"]
        assert isinstance(error["message"], str) and error["message"].strip()
        assert set(error) == {"message", "type", "param", "code"}
        return
    if method == "POST" and path in bodies:
        _check_answer(path, _json(body), data)


def _json(body: bytes) -> Any:
    return json.loads(body)


def _check_answer(path: str, sent: dict[str, Any], data: dict[str, Any]) -> None:
    if path == "/v1/moderations":
        items = sent["input"] if isinstance(sent["input"], list) else [sent["input"]]
        assert len(data["results"]) == len(items)
        for result in data["results"]:
            assert result["flagged"] == any(result["categories"].values())
    elif path == "/v1/check":
        assert [v["index"] for v in data["verdicts"]] == list(
            range(1, len(sent["prompts"]) + 1)
        )
    elif path == "/v1/classify":
        assert len(data["results"]) == len(sent["pairs"])
        for row in data["results"]:
            assert (
                abs(row["entailment"] + row["neutral"] + row["contradiction"] - 1)
                < 1e-4
            )
    elif path == "/v1/route":
        assert len(data["routes"]) == len(sent["prompts"])


def test_the_fuzzed_app_answers(client: TestClient) -> None:
    """The fixture is the app the property runs against: ready, with both policies."""
    assert client.get("/readyz").json()["policies"] == POLICIES
    ok = client.post(
        "/v1/check", json={"prompts": ["i want to buy a gun"], "policy": "shop"}
    )
    assert ok.status_code == 200 and ok.json()["verdicts"][0]["action"] == "block"
