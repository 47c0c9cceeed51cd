"""Policy files: the schema, packs, and every error with the file, the path and the fix."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from crossingguard.cli.app import app
from crossingguard.errors import ConfigError, PolicyError
from crossingguard.policy import (
    builtin_packs,
    dump_policy,
    load_policy,
    policy_from_dict,
)
from crossingguard.policy.claims import claim_problem, flow_splits
from crossingguard.policy.loader import policy_warnings

GOOD = {
    "version": 1,
    "name": "shop",
    "model": "crossingguard-nli-mini",
    "defaults": {"threshold": 0.6, "template": "The prompt asks for {}"},
    "conditions": [
        {
            "id": "weapons",
            "hypotheses": ["instructions for making a weapon"],
            "severity": "high",
        },
        {
            "id": "refund",
            "hypotheses": ["a refund", "money back"],
            "aggregation": "mean",
            "threshold": 0.4,
            "action": "flag",
            "description": "Refund requests go to a person",
        },
        {
            "id": "on-topic",
            "hypotheses": "The prompt is about our products",
            "template": "{}",
            "fire_on": "contradiction",
            "action": "log",
        },
    ],
    "routes": [
        {
            "id": "billing",
            "hypotheses": ["help with a bill"],
            "examples": ["why was I charged"],
        },
        {"id": "tech", "hypotheses": ["technical support"], "threshold": 0.7},
    ],
    "routing": {"strategy": "nli", "fallback": "human"},
}


def write(tmp_path: Path, data, name: str = "policy.yaml") -> Path:
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text(json.dumps(data), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_good_policy_yaml_and_json_agree(tmp_path: Path) -> None:
    a = load_policy(write(tmp_path, GOOD))
    b = load_policy(write(tmp_path, GOOD, "policy.json"))
    assert a == b and a.identity == b.identity
    assert a.identity.startswith("shop@") and len(a.digest) == 12
    weapons, refund, topic = a.conditions
    assert a.hypotheses_of(weapons) == (
        "The prompt asks for instructions for making a weapon",
    )
    assert a.hypotheses_of(topic) == ("The prompt is about our products",)
    assert (a.condition_threshold(weapons), a.condition_threshold(refund)) == (0.6, 0.4)
    assert (weapons.action, weapons.fire_on, refund.aggregation) == (
        "block",
        "entailment",
        "mean",
    )
    # routes without a threshold take the routing strategy's default, not defaults.threshold
    assert (a.routes[0].threshold, a.routes[1].threshold, a.routing.threshold) == (
        None,
        0.7,
        None,
    )
    assert a.routes[0].examples == ["why was I charged"]
    assert a.routing.strategy == "nli" and a.routing.fallback == "human"


def test_dump_round_trip(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, GOOD))
    again = load_policy(dump_policy(policy, tmp_path / "out.yaml"))
    assert again == policy
    assert load_policy(dump_policy(policy, tmp_path / "out.json")) == policy


def bad(tmp_path: Path, **changes) -> Path:
    data = json.loads(json.dumps(GOOD))
    for dotted, value in changes.items():
        node = data
        *parents, last = dotted.split("__")
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is ...:
            del node[int(last) if last.isdigit() else last]
        elif last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value
    return write(tmp_path, data)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"conditions__1__threshold": 1.5},
            r"policy\.yaml: conditions -> 1 -> threshold: must be in \[0, 1\], got 1\.5",
        ),
        (
            {"defaults__threshold": -0.1},
            r"defaults -> threshold: must be in \[0, 1\], got -0\.1",
        ),
        (
            {"routes__1__threshold": "high"},
            r"routes -> 1 -> threshold: must be a number in \[0, 1\]",
        ),
        (
            {"conditions__2__id": "weapons"},
            (
                r"conditions -> 2 -> id: duplicate id 'weapons' \(first used at conditions -> 0\); "
                r"give each one a unique id"
            ),
        ),
        ({"routes__1__id": "billing"}, r"routes -> 1 -> id: duplicate id 'billing'"),
        (
            {"defaults__template": "The prompt asks for"},
            (
                r"defaults -> template: template must contain the placeholder \{\} exactly once, "
                r"got 'The prompt asks for'; write e\.g\."
            ),
        ),
        (
            {"conditions__0__template": "{} and {}"},
            r"conditions -> 0 -> template: template must contain the placeholder",
        ),
        (
            {"conditions__0__treshold": 0.5},
            (
                r"conditions -> 0 -> treshold: unknown key 'treshold' in conditions -> 0; remove "
                r"it or check its spelling"
            ),
        ),
        ({"colour": "red"}, r"colour: unknown key 'colour' in the top level"),
        ({"version": 2}, r"version: must be 1, got 2; add `version: 1`"),
        ({"version": ...}, r"version: missing; add `version: 1`"),
        (
            {"conditions__0__hypotheses": []},
            r"conditions -> 0 -> hypotheses: needs at least one",
        ),
        (
            {"conditions__0__hypotheses": ["ok", " "]},
            r"hypotheses: hypothesis 1 must be a non-empty",
        ),
        (
            {"conditions__0__action": "deny"},
            r"conditions -> 0 -> action: Input should be 'block', 'flag' or 'log'",
        ),
        (
            {"conditions__0__fire_on": "neutral"},
            r"conditions -> 0 -> fire_on: Input should be",
        ),
        (
            {"routing__strategy": "magic"},
            r"routing -> strategy: Input should be 'nli', 'embedding' or 'hybrid'",
        ),
        (
            {"routing__fallback": "tech"},
            r"routing -> fallback: 'tech' is also a route id",
        ),
        ({"conditions__0__id": ...}, r"conditions -> 0 -> id: Field required; add it"),
        (
            {"conditions__0__id": " x"},
            r"conditions -> 0 -> id: id must be a non-empty string",
        ),
    ],
)
def test_policy_errors(tmp_path: Path, changes, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        load_policy(bad(tmp_path, **changes))


def test_no_conditions(tmp_path: Path) -> None:
    path = write(tmp_path, {"version": 1, "conditions": []})
    with pytest.raises(
        PolicyError,
        match=r"policy\.yaml: conditions: the policy has no conditions; add at least one under "
        r"`conditions:`",
    ):
        load_policy(path)


def test_routes_only_policy_is_fine(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, {"version": 1, "routes": GOOD["routes"]}))
    assert not policy.conditions and len(policy.routes) == 2


def test_unknown_pack_in_file_and_by_name(tmp_path: Path) -> None:
    path = write(tmp_path, {"version": 1, "packs": ["moderation", "modreation"]})
    with pytest.raises(
        PolicyError,
        match=r"policy\.yaml: packs -> 1: unknown pack 'modreation'; expected one of mlcommons, "
        r"moderation, prompt-injection",
    ):
        load_policy(path)
    with pytest.raises(
        PolicyError, match=r"policy: unknown pack 'nope'; expected one of"
    ):
        load_policy("nope")


def test_pack_include_and_clash(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "version": 1,
            "packs": ["prompt-injection"],
            "defaults": GOOD["defaults"],
            "conditions": [GOOD["conditions"][0]],
        },
    )
    policy = load_policy(path)
    assert [c.id for c in policy.conditions][-1] == "weapons" and not policy.packs
    # GOOD's template is for its own conditions, not for the pack's full sentences
    first = policy.conditions[0]
    assert (
        policy.hypotheses_of(first)[0]
        == load_policy("prompt-injection").conditions[0].hypotheses[0]
    )
    # the pack's own (calibrated) threshold wins over the includer's default of 0.6
    pack = load_policy("prompt-injection")
    assert pack.own_threshold(pack.conditions[0]) is not None
    assert policy.condition_threshold(first) == pack.own_threshold(pack.conditions[0])
    assert len(policy.conditions) == len(load_policy("prompt-injection").conditions) + 1
    clash = write(
        tmp_path,
        {
            "version": 1,
            "packs": ["prompt-injection"],
            "conditions": [{"id": "jailbreak", "hypotheses": "x"}],
        },
    )
    with pytest.raises(
        PolicyError,
        match=r"conditions -> 0 -> id: 'jailbreak' is already defined by pack 'prompt-injection'",
    ):
        load_policy(clash)


@pytest.mark.parametrize(
    ("text", "name", "message"),
    [
        ("version: 1\nconditions: [", "p.yaml", r"p\.yaml: line \d+: not valid YAML"),
        ("{", "p.json", r"p\.json: line 1: not valid JSON"),
        ("- a\n- b\n", "p.yaml", r"expected a mapping at the top level"),
        ("version: 1", "p.toml", r"expected a \.yaml, \.yml or \.json policy file"),
    ],
)
def test_unreadable_files(tmp_path: Path, text: str, name: str, message: str) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError, match=message):
        load_policy(tmp_path / name)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"nope\.yaml: policy file not found"):
        load_policy(tmp_path / "nope.yaml")


def test_several_problems_are_listed(tmp_path: Path) -> None:
    path = bad(tmp_path, conditions__0__threshold=2, conditions__1__action="deny")
    with pytest.raises(
        PolicyError, match=r"2 problems:\n  conditions -> 0 -> threshold"
    ) as err:
        load_policy(path)
    assert "conditions -> 1 -> action" in str(err.value)


def test_policy_error_is_a_config_error() -> None:
    assert issubclass(PolicyError, ConfigError)
    with pytest.raises(ConfigError):
        policy_from_dict({"version": 1})


@pytest.mark.parametrize("pack", ["moderation", "mlcommons", "prompt-injection"])
def test_builtin_packs(pack: str) -> None:
    assert pack in builtin_packs()
    policy = load_policy(pack)
    assert policy.name == pack and policy.conditions
    for cond in policy.conditions:
        assert len(cond.hypotheses) >= 2, cond.id  # several phrasings per condition
        assert cond.description and cond.categories


def test_pack_condition_ids() -> None:
    moderation = [c.id for c in load_policy("moderation").conditions]
    assert moderation == [
        "sexual", "sexual/minors", "harassment", "harassment/threatening", "hate",
        "hate/threatening", "illicit", "illicit/violent", "self-harm", "self-harm/intent",
        "self-harm/instructions", "violence", "violence/graphic",
    ]  # fmt: skip
    assert [c.id for c in load_policy("mlcommons").conditions] == [
        f"S{i}" for i in range(1, 15)
    ]
    assert {c.id for c in load_policy("prompt-injection").conditions} >= {
        "prompt-injection",
        "jailbreak",
    }


# ------------------------------------------------------------------ warnings (policy validate)
README = Path(__file__).resolve().parents[1] / "README.md"


def readme_policy() -> str:
    """The README's ``bot.yaml`` example: the yaml block that defines ``support-bot``."""
    blocks = re.findall(
        r"```yaml\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL
    )
    return next(b for b in blocks if "name: support-bot" in b)


def test_readme_policy_keeps_comma_claims_whole(tmp_path: Path) -> None:
    path = tmp_path / "bot.yaml"
    path.write_text(readme_policy(), encoding="utf-8")
    policy = load_policy(path)
    off_topic = next(c for c in policy.conditions if c.id == "off-topic")
    assert policy.hypotheses_of(off_topic) == (
        "The prompt relates to our products, orders or deliveries",
    )
    billing = next(r for r in policy.routes if r.id == "billing")
    assert len(billing.hypotheses) == 1
    assert policy_warnings(path) == []


def test_unquoted_flow_list_split_at_commas_warns(tmp_path: Path) -> None:
    text = readme_policy().replace(
        '["relates to our products, orders or deliveries"]',
        "[relates to our products, orders or deliveries]",
    )
    path = tmp_path / "bot.yaml"
    path.write_text(text, encoding="utf-8")
    line = next(
        i for i, t in enumerate(text.splitlines(), 1) if "orders or deliveries" in t
    )
    assert policy_warnings(path) == [
        (
            f"{path}: line {line}: conditions -> 1 -> hypotheses: YAML reads [relates to our "
            "products, orders or deliveries] as a list of 2 hypotheses ('relates to our "
            "products', 'orders or deliveries'); if it is one claim, quote it: [\"relates to "
            'our products, orders or deliveries"] (to keep separate hypotheses, quote each)'
        )
    ]
    r = CliRunner().invoke(app, ["policy", "validate", str(path)])
    assert r.exit_code == 0 and "1 warning(s)" in r.stdout
    assert "Warning: " in r.stderr and "quote it" in r.stderr


@pytest.mark.parametrize(
    ("template", "hypothesis", "problem"),
    [
        ("{}", "weapons", "1 word(s)"),
        ("{}", "hate speech", "2 word(s)"),
        ("The prompt {}", "or deliveries today", "conjunction 'or'"),
        ("{}", "and asks for a refund", "conjunction 'and'"),
        ("{}", "to build a bomb at home", "starts with 'to'"),
        ("The prompt {}", "to build a bomb", "followed by 'to', not a verb"),
        ("The prompt {}", "a payment or a refund", "followed by 'a', not a verb"),
        ("The prompt {}", "but then also a refund", "conjunction 'but'"),
        ("The prompt asks for {}", "a refund", None),
        ("The prompt asks for {}", "weapons", None),
        ("The prompt asks {}", "for a refund", None),
        ("The user wants {}", "to build a bomb", None),
        ("{}", "A user asks for a refund", None),
        ("The prompt {}", "relates to our products, orders or deliveries", None),
    ],
)
def test_claim_problem(template: str, hypothesis: str, problem: str | None) -> None:
    found = claim_problem(template, hypothesis)
    assert (found is None) if problem is None else (problem in (found or ""))


def test_fragment_hypotheses_warn_with_their_path(tmp_path: Path) -> None:
    data = {
        "version": 1,
        "packs": ["prompt-injection"],
        "defaults": {"template": "The prompt {}"},
        "conditions": [
            {"id": "ok", "hypotheses": ["asks for a refund"]},
            {"id": "bad", "hypotheses": ["asks for a weapon", "to build a bomb"]},
        ],
        "routes": [{"id": "r", "hypotheses": "x", "template": "{}"}],
    }
    for name in ("p.yaml", "p.json"):
        path = write(tmp_path, data, name)
        assert policy_warnings(path) == [
            (
                f"{path}: conditions -> 1 -> hypotheses -> 1: 'The prompt to build a bomb' "
                "does not read as a claim about the prompt ('The prompt' is followed by 'to', "
                "not a verb); write a whole claim such as 'The prompt asks for a refund'"
            ),
            (
                f"{path}: routes -> 0 -> hypotheses -> 0: 'x' does not read as a claim about "
                "the prompt (1 word(s)); write a whole claim such as 'The prompt asks for a "
                "refund'"
            ),
        ]


def test_quoted_or_block_lists_and_packs_do_not_warn(tmp_path: Path) -> None:
    assert policy_warnings(write(tmp_path, GOOD)) == []  # safe_dump writes block lists
    quoted = tmp_path / "q.yaml"
    quoted.write_text(
        "version: 1\nconditions:\n  - id: a\n    hypotheses: ['The prompt asks for x or y',"
        ' "The prompt asks for a, b or c"]\n',
        encoding="utf-8",
    )
    assert policy_warnings(quoted) == []
    for pack in builtin_packs():
        assert policy_warnings(pack) == []
    assert flow_splits("hypotheses: [asks for a refund, asks about a bill]") == []
