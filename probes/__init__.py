"""Linear truth probes with the scikit-learn estimator API, fitted on every layer at once.

``fit(X, y)`` takes ``X`` as ``[n, d]`` (one layer) or ``[n_layers, n, d]``; ``direction_`` is the
unit truth direction per layer. Families: logistic regression, mass-mean (+ iid), CCS, TTPD, LAT,
and the random-direction / shuffled-label controls. ``evaluation`` holds splits, metrics and the
out-of-fold scorer, ``resampling`` the cluster bootstrap, ``sweep`` the probe sweeps.
"""

from __future__ import annotations

from negprobe.errors import NegprobeError

from .base import LinearProbe
from .contrast import CCSProbe, LATProbe
from .controls import RandomDirectionProbe, ShuffledLabelProbe
from .logistic import LogisticRegressionProbe
from .mass_mean import MassMeanProbe
from .ttpd import TTPDProbe

PROBES = {
    "logistic": lambda seed: LogisticRegressionProbe(),
    "mass_mean": lambda seed: MassMeanProbe(),
    "mass_mean_iid": lambda seed: MassMeanProbe(iid=True),
    "ccs": lambda seed: CCSProbe(seed=seed),
    "ttpd": lambda seed: TTPDProbe(),
    "lat": lambda seed: LATProbe(seed=seed),
    "random": lambda seed: RandomDirectionProbe(seed=seed),
    "shuffled": lambda seed: ShuffledLabelProbe(seed=seed),
}


def make_probe(name: str, seed: int = 0) -> LinearProbe:
    try:
        return PROBES[name](seed)
    except KeyError:
        raise NegprobeError(f"unknown probe {name!r}: use one of {', '.join(PROBES)}") from None


__all__ = [
    "PROBES", "CCSProbe", "LATProbe", "LinearProbe", "LogisticRegressionProbe", "MassMeanProbe",
    "RandomDirectionProbe", "ShuffledLabelProbe", "TTPDProbe", "make_probe",
]
