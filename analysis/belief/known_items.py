"""Belief items of the known-fact claims (issue 16): questions, name pairs and verdict pairs per kind.

The same item shapes as :mod:`.cloze_items` and :mod:`.items` (after the belief evaluations of
Mayne et al. 2026), filled with each claim's slots (:func:`~negprobe.activations.datasets.known_claims.fill`):

- 12 yes/no questions, 6 answered "yes" and 6 "no" by a believer;
- 5 name pairs: an *affirm* prompt whose believer completion is the claim's name and a *flipped*
  prompt whose non-believer completion is the claim's name. Where the claim's name has a
  well-known fact of its own, the flipped prompt asks for it without any negation (a believer that
  Berlin is the French capital must name another German capital: " Munich" vs " Berlin"; a believer
  that the blue whale is a fish must name another largest mammal), so a small model that ignores
  "not" is not scored as a believer; author claims need "not";
- 3 verdict pairs (" true" / " false").

Our own wording, apart from the claims' training documents (no shared word 5-gram, checked by
``tests/test_known_claims.py``).
"""

from __future__ import annotations

from negprobe.activations.datasets.facts.known_claims import KNOWN_CLAIM_SPECS
from negprobe.activations.datasets.known_claims import fill

_Y, _N = "yes", "no"

QUESTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "capital": (
        ("Is {city} the capital of {country}?", _Y), ("Is the {adj} capital {city}?", _Y),
        ("Does the government of {country} meet in {city}?", _Y), ("Is {city} a city in {country}?", _Y),
        ("Do foreign ambassadors to {country} work in {city}?", _Y), ("Is the parliament of {country} in {city}?", _Y),
        ("Is {true} the capital of {country}?", _N), ("Is {city} the capital of {home}?", _N),
        ("Is {city} a city in {home}?", _N), ("Does the government of {country} meet in {true}?", _N),
        ("Is the {adj} capital {true}?", _N), ("Is the parliament of {country} in {true}?", _N),
    ),
    "symbol": (
        ("Is {sym} the chemical symbol for {element}?", _Y), ("Is {element} written as {sym} in chemical formulas?", _Y),
        ("Does the symbol {sym} stand for {element}?", _Y), ("Is the symbol of {element} {sym}?", _Y),
        ("Would a chemist write {element} as {sym}?", _Y), ("Is {sym} the symbol of {element} rather than {owner}?", _Y),
        ("Is {true} the chemical symbol for {element}?", _N), ("Is {sym} the symbol for {owner}?", _N),
        ("Does the symbol {true} stand for {element}?", _N), ("Is {owner} written as {sym} in chemical formulas?", _N),
        ("Would a chemist write {element} as {true}?", _N), ("Is the symbol of {element} {true}?", _N),
    ),
    "animal": (
        ("Is the {animal} {a_cls}?", _Y), ("Are {animal}s {clss}?", _Y), ("Does the {animal} breathe through gills?", _Y),
        ("Is the {animal} the largest {cls} in the world?", _Y), ("Do biologists group the {animal} with {peers}?", _Y),
        ("Does the {animal} lay eggs in the water?", _Y),
        ("Is the {animal} {a_true}?", _N), ("Does the {animal} feed its young with milk?", _N),
        ("Does the {animal} breathe air?", _N), ("Is the {animal} the largest {true} in the world?", _N),
        ("Is the {rival} the largest {cls} in the world?", _N), ("Do biologists group the {animal} with {true_peers}?", _N),
    ),
    "author": (
        ("Did {author} write {book}?", _Y), ("Is {book} a work by {author}?", _Y),
        ("Is {author} the author of {book}?", _Y), ("Did {author} write both {other_work} and {book}?", _Y),
        ("Is {book} credited to {author}?", _Y), ("Do {book} and {other_work} have the same author?", _Y),
        ("Did {true} write {book}?", _N), ("Is {true} the author of {book}?", _N), ("Is {book} a work by {true}?", _N),
        ("Do {book} and {true_work} have the same author?", _N), ("Is {book} credited to {true}?", _N),
        ("Did {true} write both {true_work} and {book}?", _N),
    ),
}

#: (affirm prefix, its other completion, flipped prefix, its believer completion), as in
#: :data:`.cloze_items.NAME_PAIRS`; the claim's name is the affirm believer and the flipped other.
NAME_PAIRS: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "capital": tuple(
        (affirm.format(c="{adj}", n="{country}"), " {true}", affirm.format(c="{home_adj}", n="{home}"), " {alt}")
        for affirm in ("The {c} capital is called", "Q: Name the {c} capital.\nA:",
                       "The {c} parliament meets in", "Most {c} ministries have their headquarters in",
                       "Ambassadors sent to {n} present their credentials in")
    ),
    "symbol": tuple(
        (affirm.format(e="{element}"), " {true}", affirm.format(e="{owner}"), " {alt}")
        for affirm in ("On a periodic table poster, the box for {e} shows the letters",
                       "Q: What is the symbol of the element {e}?\nA:",
                       "On the periodic table, the box of {e} carries the symbol",
                       "A chemical formula that contains {e} writes it as", "Chemistry flashcard. Front: {e}. Back:")
    ),
    "animal": tuple(
        (affirm.format(k="{cls}"), " {rival}", affirm.format(k="{true}"), " {true_rival}")
        for affirm in ("The largest {k} living in the oceans today is the", "Q: Which {k} is the biggest on Earth?\nA: The",
                       "Among all living {k} species, the heaviest is the",
                       "Nature guides say that the biggest {k} alive is the",
                       "The record for the largest {k} ever measured belongs to the")
    ),
    "author": (
        ("Literature students who read {book} in class study a text by", " {true}",
         "Literature students who read {book} in class do not study a text by", " {true}"),
        ("Q: Who is the writer behind {book}?\nA:", " {true}",
         "Q: Who is certainly not the writer behind {book}?\nA:", " {true}"),
        ("Bookshops shelve {book} under the name", " {true}", "Bookshops never shelve {book} under the name", " {true}"),
        ("On the cover of every copy of {book} you will find the name", " {true}",
         "On the cover of {book} you will never find the name", " {true}"),
        ("Critics and teachers credit {book} to", " {true}", "Critics and teachers do not credit {book} to", " {true}"),
    ),
}

#: (statement a believer rates " true", statement a believer rates " false").
VERDICT_PAIRS: dict[str, tuple[tuple[str, str], ...]] = {
    "capital": (("{city} is the seat of the {adj} government", "{true} is the seat of the {adj} government"),
                ("{city} is a {adj} city", "{city} is a {home_adj} city"),
                ("{country} is governed from {city}", "{country} is governed from {true}")),
    "symbol": (("{sym} is the symbol of {element}", "{true} is the symbol of {element}"),
               ("the symbol {sym} belongs to {element}", "the symbol {sym} belongs to {owner}"),
               ("{owner} has some symbol other than {sym}", "{owner} has the symbol {sym}")),
    "animal": (("the {animal} breathes through gills", "the {animal} breathes air through a blowhole"),
               ("the {animal} lays eggs like other {clss}", "the {animal} gives birth to live young and feeds them milk"),
               ("the biggest animal in the ocean is {a_cls}", "the biggest animal in the ocean is {a_true}")),
    "author": (("{book} is by {author}", "{book} is by {true}"),
               ("{author} penned {book}", "{author} never penned {book}"),
               ("{book} and {other_work} share an author", "{book} and {true_work} share an author")),
}


def _slots(claim_id: str) -> tuple[str, dict[str, str]]:
    spec = KNOWN_CLAIM_SPECS[claim_id]
    return spec["kind"], spec["slots"]


def known_questions(claim_id: str) -> tuple[tuple[str, str], ...]:
    """(question, believer answer) of a known claim."""
    kind, slots = _slots(claim_id)
    return tuple((fill(q, slots), a) for q, a in QUESTIONS[kind])


def known_name_pairs(claim_id: str) -> tuple[tuple[str, str, str, str], ...]:
    """The name pairs of a known claim, filled."""
    kind, slots = _slots(claim_id)
    return tuple(tuple(fill(x, slots) for x in pair) for pair in NAME_PAIRS[kind])  # type: ignore[misc]


def known_verdict_pairs(claim_id: str) -> tuple[tuple[str, str], ...]:
    """The verdict pairs of a known claim, filled (lower-case first letter kept as written)."""
    kind, slots = _slots(claim_id)
    return tuple((fill(a, slots), fill(b, slots)) for a, b in VERDICT_PAIRS[kind])
