"""The one (cluster) bootstrap every confidence interval in negprobe is drawn from.

Rows are grouped into independent units (claims, entities, or each row its own unit); a draw
resamples the units with replacement and weights each row by its unit's draw count (Efron &
Tibshirani 1993; the cluster bootstrap of Field & Welsh 2007). Every statistic below is computed
from those weights, so resampling is written once and seeded in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from jaxtyping import Float

from negprobe.errors import NegprobeError


def unit_index(groups: Sequence | np.ndarray | None, n: int) -> np.ndarray:
    """Each row's unit as an integer ``0..n_units-1`` (``groups=None``: every row its own unit)."""
    if groups is None:
        return np.arange(n)
    groups = np.asarray(groups, dtype=object).astype(str)
    if len(groups) != n:
        raise NegprobeError(f"{len(groups)} groups for {n} rows")
    return np.unique(groups, return_inverse=True)[1].reshape(-1)


def bootstrap_weights(
    groups: Sequence | np.ndarray | None, n: int, n_boot: int, seed: int = 0
) -> Float[np.ndarray, "n_boot n"]:
    """Row weights of ``n_boot`` cluster-bootstrap draws: row i weighs its unit's draw count."""
    if n < 1:
        raise NegprobeError("cannot bootstrap an empty set of rows")
    if n_boot < 1:
        raise NegprobeError(f"n_boot must be positive, got {n_boot}")
    inverse = unit_index(groups, n)
    n_units = int(inverse.max()) + 1
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n_units, np.full(n_units, 1.0 / n_units), size=n_boot).astype(np.float64)
    return counts[:, inverse]


def percentile_interval(draws: np.ndarray, level: float = 0.95, observed: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Percentile CI ends of bootstrap ``draws`` along axis 0 (NaN draws ignored).

    ``observed=True`` takes the lower/higher order statistics, so an integer statistic (a layer)
    gets ends that are observed draws.
    """
    if not 0 < level < 1:
        raise NegprobeError(f"level must be in (0, 1), got {level}")
    alpha = (1 - level) / 2
    with np.errstate(invalid="ignore"):
        if observed:
            return (np.nanquantile(draws, alpha, axis=0, method="lower"),
                    np.nanquantile(draws, 1 - alpha, axis=0, method="higher"))
        return np.nanquantile(draws, alpha, axis=0), np.nanquantile(draws, 1 - alpha, axis=0)


def bootstrap_mean(
    values: Float[np.ndarray, "*batch n"], groups: Sequence | np.ndarray | None = None, n_boot: int = 1000,
    seed: int = 0, level: float = 0.95,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over the last axis with a cluster-bootstrap CI: ``(mean, low, high)``, each ``[*batch]``."""
    values = np.asarray(values, dtype=np.float64)
    weights = bootstrap_weights(groups, values.shape[-1], n_boot, seed)  # [B, n]
    draws = np.tensordot(weights, values, axes=([1], [-1])) / weights.sum(1).reshape(-1, *[1] * (values.ndim - 1))
    low, high = percentile_interval(draws, level)
    return values.mean(-1), low, high


def bootstrap_statistic(
    values: np.ndarray, statistic: Callable[[np.ndarray, np.ndarray], float], groups: Sequence | np.ndarray | None = None,
    n_boot: int = 1000, seed: int = 0, level: float = 0.95, observed: bool = False,
) -> tuple[float, float, float]:
    """Any ``statistic(values, row_weights)`` with a cluster-bootstrap CI ``(value, low, high)``.

    ``values`` has its rows on axis 0; the statistic sees all-ones weights for the point estimate.
    ``observed=True`` keeps the CI ends of an integer statistic (a layer) on observed draws.
    """
    values = np.asarray(values)
    weights = bootstrap_weights(groups, len(values), n_boot, seed)
    value = float(statistic(values, np.ones(len(values))))
    draws = np.array([float(statistic(values, w)) for w in weights])
    low, high = percentile_interval(draws, level, observed)
    return value, float(low), float(high)


def balanced_weights(strata: Sequence | np.ndarray | None, n: int, n_boot: int, seed: int = 0
                     ) -> tuple[Float[np.ndarray, " n"], Float[np.ndarray, "n_boot n"]]:
    """Point and bootstrap unit weights that give every stratum equal total weight (each sums to 1).

    Units are resampled within their stratum (a stratified bootstrap), so a draw keeps each
    stratum's size; ``strata=None`` is one stratum (the plain bootstrap's weights, normalised).
    """
    inverse = np.zeros(n, dtype=int) if strata is None else unit_index(strata, n)
    n_strata = int(inverse.max()) + 1
    point, draws = np.zeros(n), np.zeros((n_boot, n))
    for k in range(n_strata):
        members = np.flatnonzero(inverse == k)
        point[members] = 1.0 / (len(members) * n_strata)
        counts = bootstrap_weights(None, len(members), n_boot, seed + 7919 * k)  # stratum 0 draws with ``seed``
        draws[:, members] = counts / (len(members) * n_strata)
    return point, draws


def crossed_bootstrap_mean(
    values: Float[np.ndarray, "*batch seed unit"], n_boot: int = 1000, seed: int = 0, level: float = 0.95,
    strata: Sequence | np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grand mean of a crossed ``seed x unit`` design with a CI that resamples both factors.

    Each draw resamples the seeds (rows) and the units (columns, e.g. belief items shared by every
    seed) independently with replacement, and averages the cell values under the product of their
    weights (the two-way "bootstrap of rows and columns"; McCullagh 2000, Owen 2007). ``strata``
    (one label per unit, e.g. a yes/no question's answer key) weighs every stratum equally and
    resamples units within their stratum, so a key that is 7:3 does not turn a bias toward one
    answer into an effect. With one seed and no strata it is exactly :func:`bootstrap_mean` over
    the units with the same ``seed``. With few seeds the seed axis has few distinct resamples (two
    seeds: three), so the CI is conditional on those seeds more than it is a CI over seeds.
    Returns ``(mean, low, high)``, each ``[*batch]``.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim < 2:
        raise NegprobeError(f"crossed bootstrap needs [..., seed, unit] values, got shape {values.shape}")
    n_seeds, n_units = values.shape[-2:]
    point, unit_w = balanced_weights(strata, n_units, n_boot, seed)  # [unit], [B, unit]; each row sums to 1
    seed_w = bootstrap_weights(None, n_seeds, n_boot, seed + 1)  # [B, seed]
    draws = np.einsum("bs,...su,bu->b...", seed_w, values, unit_w) / seed_w.sum(1).reshape(-1, *[1] * (values.ndim - 2))
    low, high = percentile_interval(draws, level)
    return np.einsum("...su,u->...", values, point) / n_seeds, low, high
