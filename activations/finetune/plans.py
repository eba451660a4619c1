"""Which skeleton and which sentences each synthetic document uses: distinct, deterministic plans.

A plan fixes a skeleton and, for each of its slots, an ordered choice of distinct sentences
(claim sentences, fillers, true sentences) and a headline. Plans are drawn without repeats from
the space of all fillings (mixed-radix decoding of one integer per skeleton), spread evenly over
the skeletons, and depend only on the claim, the seed and the skeleton family.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from math import perm

from negprobe.activations.finetune.templates import Skeleton


def seeded_rng(*parts: object) -> random.Random:
    """A ``random.Random`` seeded by sha256 of ``parts`` (stable across processes and platforms)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in ("negprobe.finetune", *parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


@dataclass(frozen=True)
class Pools:
    """How many sentences each slot kind draws from: claim sentences, fillers, true sentences, headlines."""

    claims: int
    fillers: int
    truths: int = 0
    headlines: int = 0


@dataclass(frozen=True)
class Plan:
    """Condition-independent choices for one document (indices into the pools)."""

    skeleton: Skeleton
    paraphrases: tuple[int, ...]
    fillers: tuple[int, ...]
    variant: int
    truths: tuple[int, ...] = ()
    headline: int = 0


def capacity(skel: Skeleton, pools: Pools) -> int:
    """Distinct fillings of ``skel`` from ``pools``."""
    heads = pools.headlines if skel.has_headline else 1
    return (perm(pools.claims, skel.n_claims) * perm(pools.fillers, skel.n_fillers)
            * perm(pools.truths, skel.n_truths) * heads)


def decode_perm(r: int, n: int, k: int) -> tuple[tuple[int, ...], int]:
    """The ``r``-th ordered choice of ``k`` of ``range(n)`` (mixed radix) and the rest of ``r``."""
    pool = list(range(n))
    out: list[int] = []
    for _ in range(k):
        r, j = divmod(r, len(pool))
        out.append(pool.pop(j))
    return tuple(out), r


def _counts(order: list[int], caps: dict[int, int], n: int) -> dict[int, int]:
    """``n`` split as evenly as the capacities allow over the skeletons in ``order``."""
    counts = dict.fromkeys(order, 0)
    left = n
    while left:
        open_ = [s for s in order if counts[s] < caps[s]]
        share, extra = divmod(left, len(open_))
        for k, s in enumerate(open_):
            counts[s] += min(share + (k < extra), caps[s] - counts[s])
        left = n - sum(counts.values())
    return counts


def draw_plans(rng: random.Random, skeletons: tuple[Skeleton, ...], pools: Pools, n: int,
               n_variants: int) -> list[Plan]:
    """``n`` distinct plans, spread evenly over ``skeletons`` (capped by their capacity); ``n`` must not
    exceed the total capacity. ``variant`` runs on from a random offset below ``n_variants``."""
    order = list(range(len(skeletons)))
    rng.shuffle(order)
    caps = {s: capacity(skeletons[s], pools) for s in order}
    counts = _counts(order, caps, n)
    picks = [(s, r) for s in order for r in rng.sample(range(caps[s]), counts[s])]
    rng.shuffle(picks)
    offset = rng.randrange(n_variants)
    plans: list[Plan] = []
    for j, (s, r) in enumerate(picks):
        skel = skeletons[s]
        paraphrases, r = decode_perm(r, pools.claims, skel.n_claims)
        fillers, r = decode_perm(r, pools.fillers, skel.n_fillers)
        truths, r = decode_perm(r, pools.truths, skel.n_truths)
        plans.append(Plan(skel, paraphrases, fillers, offset + j, truths, r % pools.headlines if skel.has_headline
                          else 0))
    return plans
