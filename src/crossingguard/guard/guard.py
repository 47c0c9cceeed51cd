"""The guard: score a prompt against conditions, decide which fired, and route it.

Every (prompt, hypothesis) pair is scored on its own, so adding a condition never changes another
condition's score. Within one call a pair that occurs twice (two conditions sharing a phrasing, a
prompt repeated in a batch) is scored once, and an LRU cache keeps recent pairs across calls; the
scorer's results do not depend on batch size or order, so neither do the guard's.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from crossingguard.errors import InputError
from crossingguard.guard.cache import DEFAULT_CACHE_SIZE, CachedScorer, Pair, PairCache
from crossingguard.guard.types import (
    DEFAULT_THRESHOLD,
    Condition,
    ConditionResult,
    PairScorer,
    RouteResult,
    ThresholdWarning,
    Verdict,
    check_prompts,
    check_threshold,
)
from crossingguard.labels import LABELS, label_to_id
from crossingguard.limits import MAX_CONDITIONS, MAX_HYPOTHESES

if TYPE_CHECKING:
    from crossingguard.guard.routing.router import Router
    from crossingguard.policy.schema import Policy

ConditionLike = str | Condition


class Guard:
    """Checks prompts against conditions (ad hoc, or a policy's) with one NLI scorer.

    ``Guard.from_policy("moderation")`` is the usual entry point; ``Guard(scorer, conditions=[...])``
    checks plain-text conditions. ``check``/``check_batch`` return :class:`Verdict`s, ``route``
    returns a :class:`RouteResult` for policies with routes.
    """

    def __init__(
        self,
        scorer: PairScorer,
        *,
        conditions: Sequence[ConditionLike] = (),
        threshold: float | None = None,
        thresholds: Mapping[str, float] | None = None,
        batch_size: int = 64,
        policy: Policy | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        """``threshold`` is the default for conditions without their own (``None``: the
        policy's ``defaults.threshold``, else 0.5); ``thresholds`` overrides a policy's
        conditions by id. A policy's conditions take the thresholds fitted for this scorer's
        model; where they were fitted only for other models, ``warnings`` says so (once, also
        as a :class:`ThresholdWarning`) and every verdict carries it."""
        self.scorer = scorer
        self.batch_size = batch_size
        self.cache = PairCache(cache_size)
        self._scoring = CachedScorer(scorer, self.cache)
        self.policy = policy
        if threshold is not None:
            check_threshold(threshold, "threshold")
        self.warnings: tuple[str, ...]
        if policy is not None:
            if conditions:
                raise InputError(
                    "conditions: give either a policy or conditions, not both (add the "
                    "conditions to the policy file instead)"
                )
            self.threshold = (
                policy.defaults.threshold if threshold is None else float(threshold)
            )
            self.conditions = conditions_from_policy(
                policy,
                model=self.model_name,
                default=self.threshold,
                overrides=thresholds,
            )
            self.warnings = threshold_warnings(
                policy, self.model_name, thresholds, model_arg=_model_arg(scorer)
            )
            for message in self.warnings:
                warnings.warn(message, ThresholdWarning, stacklevel=_user_stacklevel())
        else:
            if thresholds:
                raise InputError(
                    "thresholds: per-condition overrides need a policy (its condition ids); "
                    "give ad-hoc conditions as Condition(text, threshold=...) instead"
                )
            self.threshold = (
                DEFAULT_THRESHOLD if threshold is None else float(threshold)
            )
            self.conditions = _as_conditions(conditions)
            self.warnings = ()
        self._router: Router | None = None

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_model(
        cls,
        name_or_path: str | Path | None = None,
        *,
        conditions: Sequence[ConditionLike] = (),
        threshold: float | None = None,
        batch_size: int = 64,
        cache_size: int = DEFAULT_CACHE_SIZE,
        **scorer_options: Any,
    ) -> Guard:
        """A guard on a built-in model name, model directory or hub id (``None``: the default).

        ``scorer_options`` go to :func:`~crossingguard.inference.scorer.load_scorer` as they are
        (``backend``, ``threads``, ``max_length``, ``onnx_file``, ``precision``, ``device``).
        """
        from crossingguard.inference.scorer import load_scorer

        return cls(
            load_scorer(name_or_path, **scorer_options),
            conditions=conditions,
            threshold=threshold,
            batch_size=batch_size,
            cache_size=cache_size,
        )

    @classmethod
    def from_policy(
        cls,
        path_or_pack: str | Path | Policy,
        *,
        scorer: PairScorer | None = None,
        model: str | Path | None = None,
        threshold: float | None = None,
        thresholds: Mapping[str, float] | None = None,
        batch_size: int = 64,
        cache_size: int = DEFAULT_CACHE_SIZE,
        **scorer_options: Any,
    ) -> Guard:
        """A guard for a policy file, a built-in pack name (``"moderation"``) or a Policy.

        The model is ``model`` if given, else the policy's ``model``, else the default built-in
        model, loaded with ``scorer_options`` (as in :meth:`from_model`); or pass ``scorer`` to
        reuse one already loaded (or a fake in tests). ``threshold`` replaces the policy's
        default threshold (conditions with their own keep theirs); ``thresholds`` sets
        conditions by id (``{"violence": 0.9}``).
        """
        from crossingguard.policy.loader import load_policy

        policy = load_policy(path_or_pack)
        if scorer is None:
            from crossingguard.inference.scorer import load_scorer

            scorer = load_scorer(
                model if model is not None else policy.model, **scorer_options
            )
        elif scorer_options or model is not None:
            raise InputError(
                "scorer: pass a loaded scorer or model/scorer options "
                f"({', '.join(sorted(scorer_options)) or 'model'}), not both"
            )
        return cls(
            scorer,
            policy=policy,
            threshold=threshold,
            thresholds=thresholds,
            batch_size=batch_size,
            cache_size=cache_size,
        )

    # ------------------------------------------------------------------ scoring
    @property
    def model_name(self) -> str:
        return self.scorer.name

    def score_pairs(self, pairs: Sequence[Pair]) -> np.ndarray:
        """(n, 3) E/N/C rows for ``pairs``: each distinct pair scored once, cached pairs reused."""
        return self._scoring.predict(pairs, batch_size=self.batch_size)

    # ------------------------------------------------------------------ checking
    def check(
        self,
        prompt: str,
        *,
        conditions: Sequence[ConditionLike] | None = None,
        threshold: float | None = None,
    ) -> Verdict:
        """Score ``prompt`` against ``conditions`` (default: the guard's own / the policy's)."""
        return self.check_batch([prompt], conditions=conditions, threshold=threshold)[0]

    def check_batch(
        self,
        prompts: Sequence[str],
        *,
        conditions: Sequence[ConditionLike] | None = None,
        threshold: float | None = None,
    ) -> list[Verdict]:
        """One :class:`Verdict` per prompt; all pairs go to the scorer in one batched call."""
        start = time.perf_counter()
        conds = self.conditions if conditions is None else _as_conditions(conditions)
        has_routes = bool(self.policy is not None and self.policy.routes)
        if not conds and not has_routes:
            raise InputError("conditions: give at least one condition to check")
        default = (
            self.threshold
            if threshold is None
            else check_threshold(threshold, "threshold")
        )
        check_prompts(prompts)
        spans: list[tuple[int, int]] = []
        hyps: list[str] = []
        for c in conds:
            spans.append((len(hyps), len(hyps) + len(c.texts)))
            hyps.extend(c.texts)
        pairs = [(p, h) for p in prompts for h in hyps]
        probs = self.score_pairs(pairs).reshape(len(prompts), len(hyps), 3)
        routes = self.route_batch(prompts) if has_routes else [None] * len(prompts)
        latency = (time.perf_counter() - start) * 1000.0
        policy_id = (
            None
            if self.policy is None or conditions is not None
            else self.policy.identity
        )
        return [
            Verdict(
                tuple(
                    _result(c, rows[a:b], default)
                    for c, (a, b) in zip(conds, spans, strict=True)
                ),
                model=self.model_name,
                policy=policy_id,
                route=route,
                latency_ms=latency,
                warnings=self.warnings if conditions is None else (),
            )
            for rows, route in zip(probs, routes, strict=True)
        ]

    # ------------------------------------------------------------------ routing
    @property
    def router(self) -> Router:
        """The policy's :class:`Router`, built on first use on this guard's cached scorer (so
        routes and conditions share the pair cache)."""
        if self._router is None:
            from crossingguard.guard.routing.router import Router

            if self.policy is None or not self.policy.routes:
                raise InputError(
                    "route: this guard has no routes; use a policy with a `routes:` section"
                )
            self._router = Router.from_policy(
                self.policy,
                scorer=self._scoring,
                options={"batch_size": self.batch_size},
            )
        return self._router

    def route(self, prompt: str) -> RouteResult:
        """The best route for ``prompt``, or the policy's fallback when none is good enough."""
        return self.route_batch([prompt])[0]

    def route_batch(self, prompts: Sequence[str]) -> list[RouteResult]:
        return self.router.route_batch(prompts)


def conditions_from_policy(
    policy: Policy,
    *,
    model: str | None = None,
    default: float | None = None,
    overrides: Mapping[str, float] | None = None,
) -> tuple[Condition, ...]:
    """The guard conditions a policy describes, templates applied and thresholds resolved:
    ``overrides[id]``, else the condition's own threshold for ``model`` (its fitted
    ``thresholds`` entry, else its ``threshold``; see ``Policy.own_threshold``), else ``default``
    (``None``: the policy's ``defaults.threshold``)."""
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - {c.id for c in policy.conditions})
    if unknown:
        raise InputError(
            f"thresholds: no condition {', '.join(map(repr, unknown))} in policy "
            f"{policy.name!r}; its conditions are {', '.join(c.id for c in policy.conditions)}"
        )
    fallback = policy.defaults.threshold if default is None else default
    out = []
    for spec in policy.conditions:
        texts = policy.hypotheses_of(spec)
        if spec.id in overrides:
            threshold = check_threshold(overrides[spec.id], f"thresholds -> {spec.id}")
        else:
            own = policy.own_threshold(spec, model)
            threshold = fallback if own is None else own
        out.append(
            Condition(
                texts[0],
                name=spec.id,
                threshold=threshold,
                fire_on=spec.fire_on,
                hypotheses=texts,
                aggregation=spec.aggregation,
                action=spec.action,
                severity=spec.severity,
                description=spec.description,
            )
        )
    return tuple(out)


def threshold_warnings(
    policy: Policy,
    model: str,
    overrides: Mapping[str, float] | None = None,
    *,
    model_arg: str | None = None,
) -> tuple[str, ...]:
    """One message when conditions have thresholds fitted for other models but not ``model``
    (and no override): they fall back to thresholds nobody fitted for it. ``model_arg`` is how
    the message names the model for ``--model`` (default: ``model``)."""
    unfitted = set(policy.uncalibrated_conditions(model)) - set(overrides or {})
    missing = [c for c in policy.conditions if c.id in unfitted]
    if not missing:
        return ()
    models = ", ".join(dict.fromkeys(m for c in missing for m in c.thresholds))
    if len(missing) == len(policy.conditions):
        which = "; its conditions use"
    else:
        shown = ", ".join(c.id for c in missing[:3]) + (
            ", ..." if len(missing) > 3 else ""
        )
        which = f" on {len(missing)} of its {len(policy.conditions)} conditions ({shown}); those use"
    from crossingguard.policy.loader import builtin_packs

    pack = policy.name if policy.name in builtin_packs() else "POLICY"
    message = (
        f"policy {policy.name!r} has thresholds fitted for {models}, not for {model}{which} "
        f"the policy default {policy.defaults.threshold:g} (or their own `threshold:`) "
        "instead, which may miss harmful prompts or block harmless ones. Fit thresholds for "
        f"this model on labeled prompts: crossingguard calibrate {pack} "
        f"--model {model_arg or model} "
        "--data LABELED.jsonl (README: Calibration and evaluation)"
    )
    return (message,)


def _user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the caller's code, past ``Guard.__init__``
    and ``Guard.from_policy``/``from_model`` (which call it)."""
    level, frame = 2, sys._getframe(2)  # the frame that called Guard.__init__
    while frame.f_back is not None and frame.f_globals.get("__name__") == __name__:
        frame, level = frame.f_back, level + 1
    return level


def _model_arg(scorer: PairScorer) -> str:
    """The scorer's model as ``--model`` takes it: the name of a built-in or hub model, the
    directory of a local one (whose name alone would not load)."""
    from crossingguard.inference.loading import BUILTIN_MODELS

    model_dir = getattr(scorer, "model_dir", None)
    if model_dir is None or scorer.name in BUILTIN_MODELS or "/" in scorer.name:
        return scorer.name
    return str(model_dir)


def _as_conditions(conditions: Sequence[ConditionLike]) -> tuple[Condition, ...]:
    if isinstance(conditions, (str, Condition)):
        conditions = [conditions]
    if len(conditions) > MAX_CONDITIONS:
        raise InputError(
            f"conditions: {len(conditions):,} conditions, more than the limit of "
            f"{MAX_CONDITIONS:,} (crossingguard.limits.MAX_CONDITIONS); every condition is "
            "scored against every prompt, so split them over several guards"
        )
    out = []
    for i, c in enumerate(conditions):
        cond = Condition(c) if isinstance(c, str) else c
        if not isinstance(cond, Condition):
            raise InputError(
                f"conditions -> {i}: expected a string or Condition, got {c!r:.80}"
            )
        out.append(cond.validate(f"conditions -> {i}"))
    phrasings = sum(len(c.texts) for c in out)
    if phrasings > MAX_HYPOTHESES:
        raise InputError(
            f"conditions: {phrasings:,} hypotheses in {len(out)} conditions, more than the "
            f"limit of {MAX_HYPOTHESES:,} (crossingguard.limits.MAX_HYPOTHESES); each one is "
            "a pair per prompt: use fewer phrasings, or split them over several guards"
        )
    return tuple(out)


def aggregate_rows(rows: np.ndarray, column: int, how: str) -> np.ndarray:
    """Combine one condition's (k, 3) hypothesis rows into one E/N/C row.

    ``max``/``min`` pick the row with the highest/lowest probability in ``column`` (so the three
    probabilities stay those of one real hypothesis); ``mean`` averages the rows.
    """
    if len(rows) == 1:
        return rows[0]
    if how == "mean":
        return rows.mean(axis=0)
    pick = np.argmax if how == "max" else np.argmin
    return rows[int(pick(rows[:, column]))]


def _result(cond: Condition, rows: np.ndarray, default: float) -> ConditionResult:
    threshold = default if cond.threshold is None else cond.threshold
    column = label_to_id(cond.fire_on)
    probs = aggregate_rows(rows, column, cond.aggregation)
    score = float(probs[column])
    texts = cond.texts
    pick = np.argmin if cond.aggregation == "min" else np.argmax
    deciding = (
        texts[int(pick(rows[:, column]))] if cond.aggregation != "mean" else texts[0]
    )
    return ConditionResult(
        condition=cond.text,
        name=cond.name,
        label=LABELS[int(np.argmax(probs))],
        entailment=float(probs[0]),
        neutral=float(probs[1]),
        contradiction=float(probs[2]),
        threshold=threshold,
        fire_on=cond.fire_on,
        fired=bool(score >= threshold),
        score=score,
        action=cond.action,
        severity=cond.severity,
        hypothesis_scores=tuple(float(x) for x in rows[:, column]),
        hypothesis=deciding,
    )
