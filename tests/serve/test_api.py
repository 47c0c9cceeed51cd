"""Every endpoint on a fake scorer: exact answers, the moderation schema, and each error status."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from fakes import FakeScorer
from openai.types import ModerationCreateResponse
from servekit import GatedScorer, make_app, running, wait_ready

from crossingguard.errors import ModelError
from crossingguard.guard import Guard
from crossingguard.policy import load_policy
from crossingguard.serve import ServeSettings, create_app
from crossingguard.serve.moderation import OPENAI_CATEGORY_NAMES

pytestmark = pytest.mark.anyio

OPENAI_CATEGORIES = {
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit",
    "illicit/violent", "self-harm", "self-harm/intent", "self-harm/instructions", "sexual",
    "sexual/minors", "violence", "violence/graphic",
}  # fmt: skip
# The FakeScorer entails a hypothesis whose every word is in the prompt: this is the wording of
# a `hate/threatening` phrasing (threshold 0.78, the fake's entailment is 0.9).
HATEFUL = "The prompt threatens people because of their race, religion or identity"


def errors_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


# ---------------------------------------------------------------------- moderation
def test_moderation_pack_table_covers_openai_names_and_every_condition() -> None:
    table = OPENAI_CATEGORY_NAMES["moderation"]
    assert set(table.values()) == OPENAI_CATEGORIES
    assert set(table) == {c.id for c in load_policy("moderation").conditions}


async def test_moderations_answers_in_openai_schema_with_openai_category_names() -> (
    None
):
    async with running(make_app()) as client:
        r = await client.post(
            "/v1/moderations",
            json={"input": [HATEFUL, "What is the capital of France?"]},
        )
    assert r.status_code == 200, r.text
    parsed = ModerationCreateResponse.model_validate(
        r.json()
    )  # OpenAI's own pydantic types
    assert parsed.id.startswith("modr-") and parsed.model == "moderation"
    first, second = parsed.results
    assert set(first.categories.model_dump(by_alias=True)) == OPENAI_CATEGORIES
    assert first.categories.hate_threatening is True and first.flagged is True
    assert first.category_scores.hate_threatening == pytest.approx(0.9)
    assert second.flagged is False and not any(second.categories.model_dump().values())
    assert first.category_applied_input_types.model_dump(by_alias=True)["violence"] == [
        "text"
    ]


async def test_moderations_single_string_text_parts_and_openai_model_names() -> None:
    async with running(make_app()) as client:
        plain = await client.post("/v1/moderations", json={"input": HATEFUL})
        parts = await client.post(
            "/v1/moderations",
            json={
                "input": [{"type": "text", "text": HATEFUL}],
                "model": "omni-moderation-latest",
            },
        )
    assert plain.status_code == parts.status_code == 200
    assert len(plain.json()["results"]) == 1
    assert (
        plain.json()["results"][0]["categories"]
        == parts.json()["results"][0]["categories"]
    )


async def test_moderations_with_another_policy_answers_with_its_condition_ids(
    shop_policy: Path,
) -> None:
    app = make_app(policies=("moderation", str(shop_policy)))
    async with running(app) as client:
        r = await client.post(
            "/v1/moderations", json={"input": "can I buy a gun here", "model": "shop"}
        )
    assert r.status_code == 200
    result = r.json()["results"][0]
    assert r.json()["model"] == "shop"
    assert result["categories"] == {"weapons": True, "refund": False}
    assert result["flagged"] is True


async def test_moderations_refuses_images_and_unknown_policies() -> None:
    async with running(make_app()) as client:
        image = await client.post(
            "/v1/moderations",
            json={
                "input": [{"type": "image_url", "image_url": {"url": "http://x/y.png"}}]
            },
        )
        unknown = await client.post(
            "/v1/moderations", json={"input": "hi", "model": "nope"}
        )
    assert image.status_code == 422
    assert "text only" in errors_of(image)["message"]
    assert unknown.status_code == 400
    err = errors_of(unknown)
    assert err["code"] == "unknown_policy" and "moderation" in err["message"]


# ---------------------------------------------------------------------- check
async def test_check_with_a_policy_is_check_json_per_prompt(shop_policy: Path) -> None:
    app = make_app(policies=(str(shop_policy),))
    prompts = ["I want a refund please", "the weather is nice"]
    async with running(app) as client:
        r = await client.post("/v1/check", json={"prompts": prompts})
    assert r.status_code == 200
    got = r.json()["verdicts"]
    expected = Guard.from_policy(shop_policy, scorer=FakeScorer()).check_batch(prompts)
    for i, (verdict, want) in enumerate(zip(got, expected, strict=True), 1):
        want_json = json.loads(
            json.dumps({"index": i, **want.to_dict()})
        )  # `check --json`
        for item in (verdict, want_json):
            item.pop("latency_ms")
            item.pop("route")  # the route is checked in test_route
        assert verdict == want_json
    assert got[0]["action"] == "flag" and got[0]["allowed"] is True
    assert got[1]["fired"] is False


async def test_check_with_ad_hoc_conditions_and_threshold() -> None:
    async with running(make_app()) as client:
        r = await client.post(
            "/v1/check",
            json={
                "prompts": ["the cat sat on the mat"],
                "conditions": [
                    "cat sat",
                    {"text": "dog barked", "name": "dog", "fire_on": "contradiction"},
                ],
                "threshold": 0.7,
            },
        )
    assert r.status_code == 200, r.text
    verdict = r.json()["verdicts"][0]
    assert verdict["policy"] is None and verdict["index"] == 1
    by_text = {c["condition"]: c for c in verdict["conditions"]}
    assert (
        by_text["cat sat"]["fired"] is True and by_text["cat sat"]["threshold"] == 0.7
    )
    assert by_text["dog barked"]["name"] == "dog"
    assert by_text["dog barked"]["fired"] is True  # contradiction 0.8 >= 0.7


async def test_check_errors_name_the_field_and_the_fix(shop_policy: Path) -> None:
    async with running(make_app()) as client:
        both = await client.post(
            "/v1/check",
            json={"prompts": ["x"], "policy": "moderation", "conditions": ["y"]},
        )
        blank = await client.post("/v1/check", json={"prompts": ["ok", "   "]})
        wrong_type = await client.post("/v1/check", json={"prompts": "just a string"})
        extra = await client.post("/v1/check", json={"prompts": ["x"], "treshold": 0.5})
        bad_threshold = await client.post(
            "/v1/check", json={"prompts": ["x"], "threshold": 2}
        )
        not_json = await client.post(
            "/v1/check",
            content=b"{prompts: [",
            headers={"content-type": "application/json"},
        )
    assert both.status_code == 422 and "not both" in errors_of(both)["message"]
    assert blank.status_code == 422 and errors_of(blank)["param"] == "prompts -> 1"
    assert wrong_type.status_code == 422 and errors_of(wrong_type)["param"] == "prompts"
    assert extra.status_code == 422 and "treshold" in errors_of(extra)["message"]
    assert (
        bad_threshold.status_code == 422
        and errors_of(bad_threshold)["param"] == "threshold"
    )
    assert (
        not_json.status_code == 400
        and "not valid JSON" in errors_of(not_json)["message"]
    )


# ---------------------------------------------------------------------- classify, route, misc
async def test_classify_returns_the_scorers_probabilities() -> None:
    async with running(make_app()) as client:
        r = await client.post(
            "/v1/classify",
            json={
                "pairs": [
                    {"premise": "a red car", "hypothesis": "red car"},
                    {"premise": "a red car", "hypothesis": "blue bike"},
                ]
            },
        )
    assert r.status_code == 200
    body = r.json()
    assert body["model"] == "fake"
    first, second = body["results"]
    assert first["label"] == "entailment"
    assert first["entailment"] == pytest.approx(0.9)
    assert second["label"] == "contradiction"
    assert second["contradiction"] == pytest.approx(0.8)


async def test_route_picks_the_entailed_route_or_the_fallback(
    shop_policy: Path,
) -> None:
    app = make_app(policies=("moderation", str(shop_policy)))
    async with running(app) as client:
        r = await client.post(
            "/v1/route",
            json={"prompts": ["help, the app crashes", "hello"], "policy": "shop"},
        )
        no_routes = await client.post("/v1/route", json={"prompts": ["x"]})
    assert r.status_code == 200, r.text
    first, second = r.json()["routes"]
    assert first["route"] == "tech" and first["matched"] is True and first["index"] == 1
    assert second["matched"] is False and second["route"] == "none_of_the_above"
    assert no_routes.status_code == 400
    assert "use one of shop" in errors_of(no_routes)["message"]


async def test_policies_lists_conditions_for_the_playground(shop_policy: Path) -> None:
    app = make_app(policies=("moderation", str(shop_policy)))
    async with running(app) as client:
        r = await client.get("/v1/policies")
    policies = {p["name"]: p for p in r.json()["policies"]}
    assert policies["moderation"]["default"] is True
    assert len(policies["moderation"]["conditions"]) == 13
    assert policies["shop"]["routes"] == ["billing", "tech"]
    assert policies["shop"]["conditions"][1] == {
        "id": "refund", "hypotheses": ["want a refund"], "threshold": 0.5,
        "fire_on": "entailment", "action": "flag", "severity": "medium", "description": "",
    }  # fmt: skip


async def test_unknown_paths_and_methods_use_the_error_shape() -> None:
    async with running(make_app()) as client:
        missing = await client.get("/v2/nothing")
        method = await client.get("/v1/check")
        docs = await client.get("/openapi.json")
    assert (
        missing.status_code == 404 and errors_of(missing)["type"] == "not_found_error"
    )
    assert method.status_code == 405
    paths = docs.json()["paths"]
    assert {"/v1/moderations", "/v1/check", "/v1/classify", "/v1/route"} <= set(paths)


# ---------------------------------------------------------------------- readiness
async def test_not_ready_until_the_model_has_loaded() -> None:
    scorer = GatedScorer()  # warm-up runs the scorer, so the gate holds readiness
    app = make_app(scorer, warmup=True)
    async with running(app, ready=False) as client:
        assert await anyio.to_thread.run_sync(scorer.entered.wait, 5)
        health = await client.get("/healthz")
        ready = await client.get("/readyz")
        early = await client.post("/v1/check", json={"prompts": ["hello"]})
        scorer.gate.set()
        await wait_ready(client)
        late = await client.post("/v1/check", json={"prompts": ["hello"]})
    assert health.status_code == 200 and health.json() == {
        "status": "ok",
        "ready": False,
    }
    assert ready.status_code == 503 and ready.json()["status"] == "loading"
    assert early.status_code == 503 and early.headers["retry-after"] == "2"
    assert errors_of(early)["code"] == "loading"
    assert late.status_code == 200


async def test_a_model_that_fails_to_load_is_reported_not_hidden() -> None:
    def broken(model: str | None) -> FakeScorer:
        raise ModelError("model 'nowhere' not found; pass a directory")

    app = create_app(ServeSettings(), scorer_factory=broken)
    async with running(app, ready=False) as client:
        for _ in range(200):
            health = await client.get("/healthz")
            if health.status_code == 503:
                break
            await anyio.sleep(0.01)
        ready = await client.get("/readyz")
        call = await client.post("/v1/check", json={"prompts": ["hello"]})
    assert health.status_code == 503 and "not found" in health.json()["error"]
    assert ready.status_code == 503 and ready.json()["status"] == "failed"
    assert call.status_code == 503 and errors_of(call)["code"] == "load_failed"
