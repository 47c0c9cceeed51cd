"""Plain data for guard decisions: conditions in, verdicts out (frozen, JSON-ready)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from crossingguard.errors import InputError

FireOn = Literal["entailment", "contradiction"]
DEFAULT_THRESHOLD = 0.5


def check_threshold(value: float, where: str) -> float:
    """Validate a probability threshold; ``where`` is the path named in the error."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 0.0 <= value <= 1.0
    ):
        raise InputError(f"{where}: must be a number in [0, 1], got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Condition:
    """A claim about the prompt (the NLI hypothesis) and when it counts as fired.

    ``fire_on="entailment"`` fires when the prompt entails the claim with probability >=
    ``threshold``; ``"contradiction"`` fires when the prompt contradicts it. ``threshold=None``
    uses the guard's default. Later policy files map onto these fields.
    """

    text: str
    name: str | None = None
    threshold: float | None = None
    fire_on: FireOn = "entailment"

    def validate(self, where: str) -> Condition:
        if not isinstance(self.text, str) or not self.text.strip():
            raise InputError(
                f"{where} -> text: condition must be a non-empty string, got {self.text!r}"
            )
        if self.threshold is not None:
            check_threshold(self.threshold, f"{where} -> threshold")
        if self.fire_on not in ("entailment", "contradiction"):
            raise InputError(
                f"{where} -> fire_on: must be entailment or contradiction, got {self.fire_on!r}"
            )
        return self


@dataclass(frozen=True)
class ConditionResult:
    """One condition's scores on one prompt."""

    condition: str
    name: str | None
    label: str
    entailment: float
    neutral: float
    contradiction: float
    threshold: float
    fire_on: FireOn
    fired: bool

    @property
    def probability(self) -> float:
        """Probability of the predicted label."""
        return float(getattr(self, self.label))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Verdict:
    """The guard's answer for one prompt: every condition's result, and whether any fired."""

    results: tuple[ConditionResult, ...]
    model: str
    fired: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fired", any(r.fired for r in self.results))

    @property
    def fired_conditions(self) -> tuple[ConditionResult, ...]:
        return tuple(r for r in self.results if r.fired)

    def to_dict(self) -> dict[str, Any]:
        return {
            "fired": self.fired,
            "model": self.model,
            "conditions": [r.to_dict() for r in self.results],
        }
