"""/metrics in Prometheus text format, and the real `openai` client against a live server."""

from __future__ import annotations

import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families
from servekit import KEY, make_app, running

HATEFUL = "The prompt threatens people because of their race, religion or identity"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


@pytest.mark.anyio
async def test_metrics_count_requests_batches_pairs_and_cache_hits() -> None:
    async with running(make_app()) as client:
        body = {"prompts": ["a cat", "a dog"], "conditions": ["cat", "dog", "bird"]}
        await client.post("/v1/check", json=body)
        await client.post("/v1/check", json=body)  # every pair now comes from the cache
        await client.post("/v1/check", json={"prompts": []})
        r = await client.get("/metrics")
    assert r.headers["content-type"].startswith("text/plain")
    m = samples(r.text)
    check = (("endpoint", "/v1/check"),)
    assert m[("crossingguard_requests_total", (*check, ("status", "200")))] == 2
    assert m[("crossingguard_requests_total", (*check, ("status", "422")))] == 1
    assert m[("crossingguard_request_duration_seconds_count", check)] == 3
    assert (
        m[("crossingguard_pairs_scored_total", ())] == 6
    )  # 2 prompts x 3 conditions, once
    assert m[("crossingguard_model_batch_pairs_count", ())] == 1
    assert m[("crossingguard_cache_hits_total", (("policy", "moderation"),))] == 6
    assert m[("crossingguard_batch_items_sum", ())] == 4
    assert m[("crossingguard_queue_depth", ())] == 0
    assert m[("crossingguard_ready", ())] == 1


def test_the_openai_client_works_unchanged(live_server) -> None:
    server = live_server(make_app(api_keys=(KEY,)))
    client = openai.OpenAI(base_url=server.url + "/v1", api_key=KEY, max_retries=0)
    response = client.moderations.create(
        model="omni-moderation-latest",
        input=[HATEFUL, "What is the capital of France?"],
    )
    hateful, benign = response.results
    assert hateful.flagged and hateful.categories.hate_threatening
    assert hateful.category_scores.hate_threatening == pytest.approx(0.9)
    assert not benign.flagged and not benign.categories.violence
    assert hateful.category_applied_input_types.hate_threatening == ["text"]
    assert response.model == "moderation"

    single = client.moderations.create(
        input="hello there"
    )  # no model: the default policy
    assert len(single.results) == 1

    wrong_key = openai.OpenAI(
        base_url=server.url + "/v1", api_key="not-the-key-000000", max_retries=0
    )
    with pytest.raises(openai.AuthenticationError, match="invalid API key"):
        wrong_key.moderations.create(input="hello")
    with pytest.raises(openai.BadRequestError, match="no loaded policy named 'nope'"):
        client.moderations.create(input="hello", model="nope")
