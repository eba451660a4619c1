"""Built-in general truth datasets, generated from our own fact tables.

Four topics in the style of Marks & Tegmark 2023 ("The Geometry of Truth") and Buerger
et al. 2024 ("Truth is Universal"): ``cities`` (city -> country), ``elements``
(element -> symbol), ``animals`` (animal -> class), ``larger_than`` (number pairs).
Every entity yields one true and one false statement, so each topic is balanced.
Each topic ``T`` has a row-aligned twin ``neg_T``: row i is row i of ``T`` negated in
place ("... is not ...") with the label flipped and the same ``group``/``pair_id``.
Generation is deterministic: choices come from :func:`.spans.pick` (sha256 of a seed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from negprobe.activations.datasets.dataset import PromptDataset
from negprobe.activations.datasets.facts.animals import ANIMAL_CLASS, ANIMAL_CLASSES
from negprobe.activations.datasets.facts.cities import CITY_COUNTRY
from negprobe.activations.datasets.facts.elements import ELEMENT_SYMBOL
from negprobe.activations.datasets.numbers import number_words
from negprobe.activations.datasets.records import PromptRecord
from negprobe.activations.datasets.spans import pick
from negprobe.errors import NegprobeError

SEED = "negprobe-topics-v1"
TRUTH_TOPICS: tuple[str, ...] = ("cities", "elements", "animals", "larger_than")


@dataclass(frozen=True)
class _Row:
    """One statement before rendering: its group, label and template slots."""

    group: str
    label: int
    slots: dict[str, str]
    extra: tuple[tuple[str, str], ...]


#: (affirmed, negated) template pairs per topic; slots are filled with ``str.format``.
TEMPLATES: dict[str, tuple[tuple[str, str], ...]] = {
    "cities": (
        ("The city of {city} is in {country}.", "The city of {city} is not in {country}."),
        ("{city} is a city in {country}.", "{city} is not a city in {country}."),
        ("{city} is located in {country}.", "{city} is not located in {country}."),
        ("{city} lies within the borders of {country}.", "{city} does not lie within the borders of {country}."),
    ),
    "elements": (
        ("The chemical symbol for {name} is {symbol}.", "The chemical symbol for {name} is not {symbol}."),
        ("{Name} has the chemical symbol {symbol}.", "{Name} does not have the chemical symbol {symbol}."),
        ("{symbol} is the chemical symbol of {name}.", "{symbol} is not the chemical symbol of {name}."),
        (
            "The element {name} is represented by the symbol {symbol}.",
            "The element {name} is not represented by the symbol {symbol}.",
        ),
    ),
    "animals": (
        ("{A_animal} is {a_class}.", "{A_animal} is not {a_class}."),
        ("The {animal} is {a_class}.", "The {animal} is not {a_class}."),
        ("The {animal} is classified as {a_class}.", "The {animal} is not classified as {a_class}."),
        ("Biologically, the {animal} counts as {a_class}.", "Biologically, the {animal} does not count as {a_class}."),
    ),
    "larger_than": (
        ("{A_words} is larger than {b_words}.", "{A_words} is not larger than {b_words}."),
        ("The number {a} is larger than {b}.", "The number {a} is not larger than {b}."),
        ("{a} is greater than {b}.", "{a} is not greater than {b}."),
        (
            "The number {a_words} is bigger than the number {b_words}.",
            "The number {a_words} is not bigger than the number {b_words}.",
        ),
    ),
}

DESCRIPTIONS: dict[str, str] = {
    "cities": "City -> country statements (true/false), our own fact table.",
    "elements": "Chemical element -> symbol statements (true/false), all 118 elements.",
    "animals": "Animal -> biological class statements (true/false).",
    "larger_than": "Number comparisons 'x is larger than y' (true/false).",
}


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _other(seed_key: str, options: Sequence[str], exclude: str) -> str:
    pool = [o for o in options if o != exclude]
    return pool[pick(SEED, seed_key, len(pool))]


def _true_first(key: str) -> bool:
    return pick(SEED, f"order:{key}", 2) == 0


def _pairs(group: str, true_row: _Row, false_row: _Row) -> list[_Row]:
    return [true_row, false_row] if _true_first(group) else [false_row, true_row]


def _city_rows() -> list[_Row]:
    countries = sorted({c for _, c in CITY_COUNTRY})
    rows: list[_Row] = []
    for city, country in CITY_COUNTRY:
        wrong = _other(f"cities:{city}", countries, country)

        def mk(c: str, lab: int) -> _Row:
            return _Row(city, lab, {"city": city, "country": c}, (("country", c), ("correct_country", country)))

        rows += _pairs(city, mk(country, 1), mk(wrong, 0))
    return rows


def _element_rows() -> list[_Row]:
    symbols = [s for _, s in ELEMENT_SYMBOL]
    rows: list[_Row] = []
    for name, symbol in ELEMENT_SYMBOL:
        wrong = _other(f"elements:{name}", symbols, symbol)

        def mk(s: str, lab: int) -> _Row:
            return _Row(name, lab, {"name": name, "Name": _cap(name), "symbol": s},
                        (("symbol", s), ("correct_symbol", symbol)))

        rows += _pairs(name, mk(symbol, 1), mk(wrong, 0))
    return rows


def _animal_rows() -> list[_Row]:
    classes = list(ANIMAL_CLASSES)
    rows: list[_Row] = []
    for animal, cls in ANIMAL_CLASS:
        wrong = _other(f"animals:{animal}", classes, cls)
        article = "An" if animal[0].lower() in "aeiou" else "A"

        def mk(c: str, lab: int) -> _Row:
            return _Row(animal, lab, {"animal": animal, "A_animal": f"{article} {animal}",
                                      "a_class": ANIMAL_CLASSES[c][0]},
                        (("class", c), ("correct_class", cls)))

        rows += _pairs(animal, mk(cls, 1), mk(wrong, 0))
    return rows


def _number_pairs(n_pairs: int = 130, lo: int = 10, hi: int = 999) -> list[tuple[int, int]]:
    """Distinct unordered pairs (small, large), deterministic; a mix of close and far pairs."""
    pairs: list[tuple[int, int]] = []
    seen: set[tuple[int, int]] = set()
    i = 0
    while len(pairs) < n_pairs:
        a = lo + pick(SEED, f"n1:{i}", hi - lo + 1)
        gap_scale = (1, 10, 100)[i % 3]
        b = a + (1 + pick(SEED, f"gap:{i}", 9)) * gap_scale * (1 if pick(SEED, f"sign:{i}", 2) else -1)
        i += 1
        small, large = sorted((a, b))
        if small < lo or large > hi or small == large or (small, large) in seen:
            continue
        seen.add((small, large))
        pairs.append((small, large))
    return pairs


def _larger_rows() -> list[_Row]:
    rows: list[_Row] = []
    for small, large in _number_pairs():
        group = f"{small}-{large}"

        def mk(a: int, b: int) -> _Row:
            aw, bw = number_words(a), number_words(b)
            return _Row(group, int(a > b),
                        {"a": str(a), "b": str(b), "a_words": aw, "b_words": bw, "A_words": _cap(aw)},
                        (("n1", str(a)), ("n2", str(b)), ("diff", str(a - b))))

        rows += _pairs(group, mk(large, small), mk(small, large))
    return rows


_ROW_BUILDERS: dict[str, Callable[[], list[_Row]]] = {
    "cities": _city_rows,
    "elements": _element_rows,
    "animals": _animal_rows,
    "larger_than": _larger_rows,
}


def build_topic(topic: str, negated: bool = False) -> PromptDataset:
    """The ``topic`` dataset, or its row-aligned negated twin ``neg_<topic>``."""
    if topic not in _ROW_BUILDERS:
        raise NegprobeError(f"unknown topic {topic!r}; known: {', '.join(TRUTH_TOPICS)}")
    templates = TEMPLATES[topic]
    name = f"neg_{topic}" if negated else topic
    records = []
    for i, row in enumerate(_ROW_BUILDERS[topic]()):
        t = pick(SEED, f"template:{topic}:{row.group}:{row.label}", len(templates))
        text = templates[t][1 if negated else 0].format(**row.slots)
        records.append(
            PromptRecord(
                text=text,
                label=1 - row.label if negated else row.label,
                polarity="negated" if negated else "affirmed",
                condition="local_negation" if negated else "plain",
                group=row.group,
                pair_id=f"{topic}:{i:04d}",
                source=f"negprobe:{name}",
                claim_span=(0, len(text)),
                claim=None,
                extra=(("template", str(t)),) + row.extra,
            )
        )
    return PromptDataset(name, tuple(records))
