"""Random durations: the distributions a duration field may name, and their draws.

A duration is a number (in the scenario's `unit`), a string with its own unit,
or a mapping such as `{dist: lognormal, mean: 55s, sd: 20s}`. Every parameter
that is a time is itself a duration, so `unit:` applies to bare numbers inside
a distribution too. Draws come only from the `numpy.random.Generator` handed
in: the scenario layer describes the law, the workload draws from it.

`expected` is the expected value of what is drawn (for the normal, which is
truncated at 0, the mean of the truncated law, a little above its `mean`
parameter), so the article's estimate can speak of expected durations.
"""

from __future__ import annotations

import difflib
import itertools
import math
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import AfterValidator, BeforeValidator, Discriminator, Field, Tag, model_validator

from sim.scenario.errors import named
from sim.scenario.frozen import Frozen, Seconds, fail
from sim.scenario.units import format_seconds

__all__ = [
    "DISTRIBUTIONS",
    "Constant",
    "Duration",
    "Empirical",
    "Exponential",
    "Gamma",
    "Law",
    "Lognormal",
    "Normal",
    "Triangular",
    "Uniform",
    "law_of",
    "mean_of",
]


def _positive(seconds: float) -> float:
    if seconds <= 0:
        fail(f"expected a duration > 0, got {format_seconds(seconds)}")
    return seconds


#: A duration that must be strictly positive (a mean of a law defined only above 0).
PositiveSeconds = Annotated[Seconds, AfterValidator(_positive)]


class Law(Frozen):
    """A law of durations in seconds: `sample` draws; `expected`, `variance` describe."""

    noun: ClassVar[str] = "parameter"
    dist: str

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """`size` independent draws, in seconds; value i never depends on `size` (prefix-stable)."""
        raise NotImplementedError

    @property
    def expected(self) -> float:
        raise NotImplementedError

    @property
    def variance(self) -> float:
        raise NotImplementedError

    @property
    def random(self) -> bool:
        """False when every draw is the same number."""
        return self.variance > 0


class Constant(Law):
    """Always `value`: a fixed duration spelled as a distribution (handy in sweeps)."""

    noun: ClassVar[str] = "constant parameter"
    dist: Literal["constant"] = "constant"
    value: Seconds

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, self.value)

    @property
    def expected(self) -> float:
        return self.value

    @property
    def variance(self) -> float:
        return 0.0


class Uniform(Law):
    """Any duration between `low` and `high`, equally likely."""

    noun: ClassVar[str] = "uniform parameter"
    dist: Literal["uniform"] = "uniform"
    low: Seconds
    high: Seconds

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        _ordered(self, "low", "high")
        return self

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size)

    @property
    def expected(self) -> float:
        return (self.low + self.high) / 2

    @property
    def variance(self) -> float:
        return (self.high - self.low) ** 2 / 12


class Triangular(Law):
    """Between `low` and `high`, most likely near `mode` (a three-point estimate)."""

    noun: ClassVar[str] = "triangular parameter"
    dist: Literal["triangular"] = "triangular"
    low: Seconds
    mode: Seconds
    high: Seconds

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        _ordered(self, "low", "mode", "high")
        return self

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        if self.low == self.high:  # numpy refuses a zero-width triangle
            return np.full(size, self.low)
        return rng.triangular(self.low, self.mode, self.high, size)

    @property
    def expected(self) -> float:
        return (self.low + self.mode + self.high) / 3

    @property
    def variance(self) -> float:
        a, c, b = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18


class Normal(Law):
    """Normal with `mean` and `sd`, truncated at 0: a negative draw is not a duration.

    `mean` and `sd` are the parameters before truncation; the mean of what is
    drawn is a little higher when `sd` is not small against `mean`. Drawn by
    inverting the truncated CDF, so each draw takes exactly one uniform.
    """

    noun: ClassVar[str] = "normal parameter"
    dist: Literal["normal"] = "normal"
    mean: Seconds
    sd: Seconds

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        from scipy.special import ndtr, ndtri

        if self.sd == 0:
            return np.full(size, self.mean)
        u = rng.random(size)
        # upper tail: q in (0, 1 − Φ(−μ/σ)], so x = μ − σ·Φ⁻¹(q) ≥ 0 and never infinite
        q = (1.0 - u) * ndtr(self.mean / self.sd)
        return np.maximum(self.mean - self.sd * ndtri(q), 0.0)

    @property
    def expected(self) -> float:
        if self.sd == 0:
            return self.mean
        ratio = _pdf(-self.mean / self.sd) / _cdf(self.mean / self.sd)
        return self.mean + self.sd * ratio

    @property
    def variance(self) -> float:
        if self.sd == 0:
            return 0.0
        alpha = -self.mean / self.sd
        ratio = _pdf(alpha) / _cdf(-alpha)
        return self.sd**2 * (1 + alpha * ratio - ratio**2)


class Lognormal(Law):
    """Positive and right-skewed, given by its own `mean` and `sd` (not those of its log)."""

    noun: ClassVar[str] = "lognormal parameter"
    dist: Literal["lognormal"] = "lognormal"
    mean: PositiveSeconds
    sd: Seconds

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        return rng.lognormal(math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2), size)

    @property
    def expected(self) -> float:
        return self.mean

    @property
    def variance(self) -> float:
        return self.sd**2


class Exponential(Law):
    """Memoryless, given by its `mean` (1 / rate): arrivals, service times, timeouts."""

    noun: ClassVar[str] = "exponential parameter"
    dist: Literal["exponential"] = "exponential"
    mean: PositiveSeconds

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean, size)

    @property
    def expected(self) -> float:
        return self.mean

    @property
    def variance(self) -> float:
        return self.mean**2


class Gamma(Law):
    """Gamma, given either by `shape` and `scale` or by `mean` and `sd`."""

    noun: ClassVar[str] = "gamma parameter"
    dist: Literal["gamma"] = "gamma"
    shape: Annotated[float, Field(strict=True, gt=0)] | None = None
    scale: PositiveSeconds | None = None
    mean: PositiveSeconds | None = None
    sd: PositiveSeconds | None = None

    @model_validator(mode="after")
    def _one_pair(self) -> Gamma:
        by_shape = self.shape is not None and self.scale is not None
        by_mean = self.mean is not None and self.sd is not None
        given = [n for n in ("shape", "scale", "mean", "sd") if getattr(self, n) is not None]
        if by_shape == by_mean or len(given) != 2:
            fail("gamma needs either shape and scale, or mean and sd")
        return self

    def _shape_scale(self) -> tuple[float, float]:
        if self.shape is not None and self.scale is not None:
            return self.shape, self.scale
        assert self.mean is not None and self.sd is not None
        return (self.mean / self.sd) ** 2, self.sd**2 / self.mean

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        shape, scale = self._shape_scale()
        return rng.gamma(shape, scale, size)

    @property
    def expected(self) -> float:
        shape, scale = self._shape_scale()
        return shape * scale

    @property
    def variance(self) -> float:
        shape, scale = self._shape_scale()
        return shape * scale * scale


class Empirical(Law):
    """Observed durations, drawn with replacement: measurements stand in for a model."""

    noun: ClassVar[str] = "empirical parameter"
    dist: Literal["empirical"] = "empirical"
    values: tuple[Seconds, ...] = Field(min_length=1)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.asarray(self.values)[rng.integers(0, len(self.values), size)]

    @property
    def expected(self) -> float:
        return float(np.mean(self.values))

    @property
    def variance(self) -> float:
        return float(np.var(self.values))


#: Every distribution by the name a scenario gives in `dist:`.
DISTRIBUTIONS: dict[str, type[Law]] = {
    law.model_fields["dist"].default: law
    for law in (Constant, Uniform, Triangular, Normal, Lognormal, Exponential, Gamma, Empirical)
}


def _ordered(law: Law, *names: str) -> None:
    values = [getattr(law, name) for name in names]
    if any(lo > hi for lo, hi in itertools.pairwise(values)):
        shown = ", ".join(f"{n} {format_seconds(v)}" for n, v in zip(names, values, strict=True))
        fail(f"{law.dist} needs {' ≤ '.join(names)}, got {shown}")


def _pdf(x: float) -> float:
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def _cdf(x: float) -> float:
    return math.erfc(-x / math.sqrt(2)) / 2


def _which(value: Any) -> str:
    """Pick the branch: a number or string is a fixed duration, a mapping names its `dist`."""
    if isinstance(value, Law):
        return value.dist
    if isinstance(value, dict):
        name = value.get("dist")
        return name if isinstance(name, str) and name in DISTRIBUTIONS else "invalid"
    return "seconds"


def _not_a_distribution(value: Any) -> Any:
    names = ", ".join(sorted(DISTRIBUTIONS))
    name = value.get("dist") if isinstance(value, dict) else None
    if name is None:
        fail(
            'expected a duration like 5 or "5s", or a distribution like '
            f"{{dist: lognormal, mean: 55s, sd: 20s}}; `dist:` is missing (one of: {names})"
        )
    close = difflib.get_close_matches(str(name), list(DISTRIBUTIONS), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    fail(f"unknown distribution {named(name)}{hint}; expected one of: {names}")


#: A duration field: fixed seconds (a float) or a `Law`. The branch is picked up front,
#: so an error speaks of the branch meant (a bad `sd`), not of every branch tried.
Duration = Annotated[
    Annotated[Seconds, Tag("seconds")]
    | Annotated[Constant, Tag("constant")]
    | Annotated[Uniform, Tag("uniform")]
    | Annotated[Triangular, Tag("triangular")]
    | Annotated[Normal, Tag("normal")]
    | Annotated[Lognormal, Tag("lognormal")]
    | Annotated[Exponential, Tag("exponential")]
    | Annotated[Gamma, Tag("gamma")]
    | Annotated[Empirical, Tag("empirical")]
    | Annotated[Any, BeforeValidator(_not_a_distribution), Tag("invalid")],
    Discriminator(_which),
]


def mean_of(duration: float | Law) -> float:
    """Expected seconds of a duration field's value."""
    return duration.expected if isinstance(duration, Law) else float(duration)


def law_of(duration: float | Law) -> Law | None:
    """The law to draw from, or None when the duration is fixed (a constant law included)."""
    return duration if isinstance(duration, Law) and duration.random else None
