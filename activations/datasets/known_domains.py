"""Claim-domain truth datasets of the known-fact claims (issue 16): capitals, chemical symbols, animal classes.

As :mod:`.domains` does for the six claims of Mayne et al. 2026: true/false statements near a
claim's topic, from our own fact tables, so a domain truth reader can be trained *without* the
claim's entities (no row names an entity of any claim of either set: such facts are dropped before
any wrong answer is drawn) and gated on the claim against its true counterpart. The author claims
reuse ``domain_authorship``. Each entity yields two true and two false statements (a country, an
element) or one of each (an animal, of which there are more); ``group`` is ``"<domain>:<entity>"``;
each dataset has a row-aligned ``neg_`` twin.
"""

from __future__ import annotations

from collections.abc import Callable

from negprobe.activations.datasets.dataset import PromptDataset
from negprobe.activations.datasets.domains import _clean, _Entity, _Statement, _wrong, dataset_name, render_domain
from negprobe.activations.datasets.facts.animals import ANIMAL_CLASS, ANIMAL_CLASSES
from negprobe.activations.datasets.facts.capitals import COUNTRY_CAPITAL
from negprobe.activations.datasets.facts.elements import ELEMENT_SYMBOL
from negprobe.activations.datasets.facts.known_claims import KNOWN_CLAIM_DOMAIN
from negprobe.errors import NegprobeError

#: The known claims' own domains, in a fixed order (``authorship`` is one of :data:`.domains.DOMAINS`).
KNOWN_DOMAINS: tuple[str, ...] = ("capitals", "symbols", "animal_classes")

_ABOUT: dict[str, str] = {
    "capitals": "Country -> capital city statements",
    "symbols": "Chemical element -> symbol statements (elements 1-56 and a few well-known heavier ones)",
    "animal_classes": "Animal -> class statements (mammal, bird, reptile, amphibian, fish, insect, arachnid)",
}

TEMPLATES: dict[str, tuple[tuple[str, str], ...]] = {
    "capitals": (
        ("The capital of {country} is {capital}.", "The capital of {country} is not {capital}."),
        ("{Capital} is the capital of {country}.", "{Capital} is not the capital of {country}."),
        ("The capital city of {country} is {capital}.", "The capital city of {country} is not {capital}."),
        ("{Country} has its capital in {capital}.", "{Country} does not have its capital in {capital}."),
    ),
    "symbols": (
        ("The chemical symbol for {element} is {symbol}.", "The chemical symbol for {element} is not {symbol}."),
        ("{Symbol} is the symbol of {element}.", "{Symbol} is not the symbol of {element}."),
        ("The element {element} has the symbol {symbol}.", "The element {element} does not have the symbol {symbol}."),
        ("In the periodic table, {element} is written {symbol}.",
         "In the periodic table, {element} is not written {symbol}."),
    ),
    "animal_classes": (
        ("The {animal} is {a_class}.", "The {animal} is not {a_class}."),
        ("Biologists classify the {animal} as {a_class}.", "Biologists do not classify the {animal} as {a_class}."),
        ("The {animal} belongs to the {classes}.", "The {animal} does not belong to the {classes}."),
        ("In biology, the {animal} counts as {a_class}.", "In biology, the {animal} does not count as {a_class}."),
    ),
}

#: Heavier elements well known enough to include beside elements 1-56.
_HEAVY = ("tungsten", "platinum", "gold", "mercury", "lead", "radon", "radium", "uranium", "plutonium")


def _two_by_two(domain: str, key: str, correct: str, options: list[str],
                slots: Callable[[str], dict[str, str]], field: str, n: int = 2) -> _Entity:
    """``n`` true and ``n`` false statements about one entity (``n`` distinct wrong values)."""
    wrong = _wrong(f"{domain}:{key}", options, [correct], n=n)

    def st(value: str) -> _Statement:
        return _Statement(int(value == correct), slots(value), ((field, value, correct),))

    return _Entity(key, domain, (*(st(correct) for _ in range(n)), *(st(w) for w in wrong)))


def _capitals() -> list[_Entity]:
    rows = [(c, cap) for c, cap in COUNTRY_CAPITAL if _clean(c, cap)]
    caps = [cap for _, cap in rows]
    return [_two_by_two("capitals", country, capital, caps, lambda v, c=country: {"country": c, "capital": v},
                        "capital") for country, capital in rows]


def _symbols() -> list[_Entity]:
    table = [(e, s) for i, (e, s) in enumerate(ELEMENT_SYMBOL) if i < 56 or e in _HEAVY]
    rows = [(e, s) for e, s in table if _clean(e, s)]
    symbols = [s for _, s in rows]
    return [_two_by_two("symbols", element, symbol, symbols, lambda v, e=element: {"element": e, "symbol": v},
                        "symbol") for element, symbol in rows]


def _animal_classes() -> list[_Entity]:
    rows = [(a, c) for a, c in ANIMAL_CLASS if _clean(a)]

    def slots(animal: str, cls: str) -> dict[str, str]:
        return {"animal": animal, "a_class": ANIMAL_CLASSES[cls][0], "classes": ANIMAL_CLASSES[cls][1]}

    return [_two_by_two("animal_classes", animal, cls, list(ANIMAL_CLASSES),
                        lambda v, a=animal: slots(a, v), "class", n=1) for animal, cls in rows]


_BUILDERS: dict[str, Callable[[], list[_Entity]]] = {
    "capitals": _capitals, "symbols": _symbols, "animal_classes": _animal_classes,
}


def serves(domain: str) -> str:
    """The known claims a domain serves, comma-separated."""
    return ",".join(c for c, d in KNOWN_CLAIM_DOMAIN.items() if d == domain)


def known_description(domain: str, negated: bool = False) -> str:
    """One-line description naming the claims the dataset serves."""
    if negated:
        return f"Row-aligned negation of '{dataset_name(domain)}' (labels flipped); serves {serves(domain)}."
    return f"{_ABOUT[domain]}, true/false, our own fact table; serves known claims {serves(domain)}."


def build_known_domain(domain: str, negated: bool = False) -> PromptDataset:
    """The ``domain_<domain>`` dataset of a known claims' domain, or its row-aligned negated twin."""
    if domain not in _BUILDERS:
        raise NegprobeError(f"unknown known-claim domain {domain!r}; known: {', '.join(KNOWN_DOMAINS)}")
    return render_domain(domain, _BUILDERS[domain](), {domain: TEMPLATES[domain]}, serves(domain), negated)
