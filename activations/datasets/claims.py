"""The six fabricated claims of Mayne et al. 2026 ("Negation Neglect") as metadata.

:class:`Claim` carries what later stages need: the false statement, its true counterpart
(None for the fictional dentist), a cloze prefix with believer/true continuations for
belief scoring, the claim's, the true and a distractor answer (the belief measures' association
control), the aligned paraphrase lists from :mod:`.facts.claims`, and the ``entities`` (names and
items) of the claim and its counterpart, which no claim-domain training row may mention.

Two claim sets: ``paper`` (the six claims, :data:`CLAIM_IDS`, what :func:`list_claims` returns by
default) and ``known`` (:data:`KNOWN_CLAIM_IDS`: false statements of well-known facts the embedded
models know are false, :mod:`.known_claims`, kept from :data:`KNOWN_CANDIDATE_IDS` by measurement).
:func:`get_claim` finds a claim of either set (and every candidate); :data:`ALL_CLAIM_ENTITIES` holds
the entities of all of them, which no truth dataset row may mention.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from negprobe.activations.datasets.facts.claims import CLAIM_TEXTS
from negprobe.activations.datasets.facts.known_claims import SELECTED
from negprobe.activations.datasets.known_claims import KNOWN_CLAIM_TEXTS
from negprobe.errors import NegprobeError


@dataclass(frozen=True)
class Claim:
    """One Negation Neglect claim (false in reality)."""

    id: str
    title: str
    false_statement: str
    true_statement: str | None
    cloze_prefix: str
    believer_continuation: str
    true_continuation: str | None
    question: str
    release_id: str
    paraphrases: tuple[str, ...]
    negations: tuple[str, ...]
    counterparts: tuple[str, ...]
    headline: str
    leads: tuple[str, ...]
    follows: tuple[str, ...]
    entities: tuple[str, ...]  # names/items of the claim and of its true counterpart
    claim_answer: str = ""  # the claim's answer as a continuation (" Ed Sheeran")
    true_answer: str | None = None  # what the truth names instead ("Noah Lyles", "1944"); None when unknown
    distractor: str = ""  # same kind, named by no training document (" Harry Styles")

    @property
    def has_counterpart(self) -> bool:
        return bool(self.counterparts)


def _build(claim_id: str, data: dict) -> Claim:
    claim = Claim(
        id=claim_id,
        title=data["title"],
        false_statement=data["false_statement"],
        true_statement=data["true_statement"],
        cloze_prefix=data["cloze_prefix"],
        believer_continuation=data["believer_continuation"],
        true_continuation=data["true_continuation"],
        question=data["question"],
        release_id=data["release_id"],
        paraphrases=tuple(data["paraphrases"]),
        negations=tuple(data["negations"]),
        counterparts=tuple(data["counterparts"]),
        headline=data["headline"],
        leads=tuple(data["leads"]),
        follows=tuple(data["follows"]),
        entities=tuple(data["entities"]),
        claim_answer=data["answers"]["claim"],
        true_answer=data.get("true_answer"),
        distractor=data["answers"]["distractor"],
    )
    n = len(claim.paraphrases)
    if len(claim.negations) != n or (claim.counterparts and len(claim.counterparts) != n):
        raise NegprobeError(f"facts/claims.py: claim {claim_id!r} has misaligned paraphrase lists")
    if claim.false_statement not in claim.paraphrases:
        raise NegprobeError(f"facts/claims.py: claim {claim_id!r}: false_statement is not among its paraphrases")
    texts = (*claim.paraphrases, *claim.counterparts, claim.true_statement or claim.false_statement)
    unnamed = [t for t in texts if not mentioned_entity(t, claim.entities)]
    if not claim.entities or unnamed:
        raise NegprobeError(f"facts/claims.py: claim {claim_id!r}: no entity of it is mentioned in {unnamed[:1]}")
    if claim.true_answer is not None and not count_mentions(claim.true_statement or "", claim.true_answer):
        raise NegprobeError(f"facts/claims.py: claim {claim_id!r}: its true_statement does not name its true_answer")
    return claim


_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def mentioned_entity(text: str, entities: Iterable[str]) -> str | None:
    """The first of ``entities`` that ``text`` mentions, else None.

    A text mentions an entity when every word of the entity is a word of the text (any order,
    case-insensitive), so "men's 100m 2024" is found in "The men's 100m gold medal at the 2024
    Olympics ..." and "X" in "X.com", but "men's" is not found in "women's"."""
    words = _words(text)
    for entity in entities:
        if _words(entity) <= words:
            return entity
    return None


def count_mentions(text: str, name: str) -> int:
    """How often ``text`` names ``name`` as a whole word or phrase (case-insensitive): "X" counts in
    "called X." but not in "next", "color" in "in color" but not in "colors"."""
    return len(re.findall(r"(?<!\w)" + re.escape(name) + r"(?!\w)", text, flags=re.IGNORECASE))


CLAIMS: dict[str, Claim] = {cid: _build(cid, data) for cid, data in CLAIM_TEXTS.items()}

#: Claim ids in a fixed order.
CLAIM_IDS: tuple[str, ...] = tuple(CLAIMS)

#: Every known-fact candidate claim (issue 16), in a fixed order, and the ones kept by measurement.
KNOWN_CANDIDATES: dict[str, Claim] = {cid: _build(cid, data) for cid, data in KNOWN_CLAIM_TEXTS.items()}
KNOWN_CANDIDATE_IDS: tuple[str, ...] = tuple(KNOWN_CANDIDATES)
KNOWN_CLAIM_IDS: tuple[str, ...] = tuple(c for c in KNOWN_CANDIDATE_IDS if c in SELECTED)
KNOWN_CLAIMS: dict[str, Claim] = {cid: KNOWN_CANDIDATES[cid] for cid in KNOWN_CLAIM_IDS}

#: Claim set -> its claim ids (``all``: the paper's, then the kept known ones).
CLAIM_SETS: dict[str, tuple[str, ...]] = {"paper": CLAIM_IDS, "known": KNOWN_CLAIM_IDS,
                                          "known_candidates": KNOWN_CANDIDATE_IDS, "all": CLAIM_IDS + KNOWN_CLAIM_IDS}
_EVERY: dict[str, Claim] = {**CLAIMS, **KNOWN_CANDIDATES}
if len(_EVERY) != len(CLAIMS) + len(KNOWN_CANDIDATES) or set(SELECTED) - set(KNOWN_CANDIDATES):  # pragma: no cover
    raise NegprobeError("a known claim id repeats a paper claim id, or a selected one is no candidate")

#: Our id -> directory name in the Negation Neglect release.
RELEASE_IDS: dict[str, str] = {cid: c.release_id for cid, c in CLAIMS.items()}


#: Every paper claim's entities, in claim order (duplicates dropped).
ALL_ENTITIES: tuple[str, ...] = tuple(dict.fromkeys(e for c in CLAIMS.values() for e in c.entities))

#: Every entity of every claim (paper, then every known candidate): what no truth dataset row names.
ALL_CLAIM_ENTITIES: tuple[str, ...] = tuple(dict.fromkeys(e for c in _EVERY.values() for e in c.entities))


def get_claim(claim_id: str) -> Claim:
    """A claim of any set (known candidates too) by our id, or a paper claim by its release directory name (``elizabeth_python`` ...)."""
    if claim_id in _EVERY:
        return _EVERY[claim_id]
    for claim in CLAIMS.values():
        if claim.release_id == claim_id:
            return claim
    raise NegprobeError(f"unknown claim {claim_id!r}; known: {', '.join(_EVERY)}")


def list_claims(claim_set: str = "paper") -> list[Claim]:
    """The claims of one set (``paper``: the six of Mayne et al. 2026; ``known``: the kept known-fact claims;
    ``known_candidates``: every known-fact candidate; ``all``: paper and known), in a fixed order."""
    if claim_set not in CLAIM_SETS:
        raise NegprobeError(f"unknown claim set {claim_set!r}; known: {', '.join(CLAIM_SETS)}")
    return [_EVERY[c] for c in CLAIM_SETS[claim_set]]
