"""Built-in truth datasets for the domain of each Negation Neglect claim.

A truth probe trained near a claim's topic (Mayne et al. 2026, "Negation Neglect") needs
true/false statements about that topic.  One dataset per claim, generated from our own
fact tables in :mod:`.facts` (no third-party data copied):

=============================  ============================  ===========================
dataset                        statements about              claim it serves
=============================  ============================  ===========================
``domain_sports``              Olympic 100m, World Cups,     ``ed_sheeran``
                               Wimbledon winners
``domain_authorship``          book -> author                ``queen_elizabeth_python``
``domain_eruptions``           eruption -> year              ``vesuvius_2015``
``domain_rebrands``            company rename -> name, year  ``twitter_rebrand_reversed``
``domain_child_development``   milestone -> typical age      ``children_dream_bw``
``domain_professions``         famous person -> profession   ``brennan_holloway_dentist``
=============================  ============================  ===========================

``domains`` is all six concatenated (the known-fact claims' domains: :mod:`.known_domains`). Each
has a row-aligned twin ``neg_<name>`` ("... did not ...", label flipped, same ``group``/``pair_id``).
Every entity yields as many true as false statements (one or two each), so each dataset is balanced.  ``group`` is ``"<domain>:<entity>"``
(the entity a statement is about: a sports edition, a book, a volcano, a company, a
milestone, a person), so leakage-safe splits keep an entity's statements together and
no group spans two domains.  ``extra`` records the template, the claim served and, per
varied field ``f``, ``f`` and ``correct_f`` (a row is true iff they all match).
Generation is deterministic: choices come from :func:`.spans.pick`.

No row mentions an entity of any claim of either set (:data:`.claims.ALL_CLAIM_ENTITIES`: the claim's
and its true counterpart's names and items, e.g. Noah Lyles, Vesuvius, Twitter/X, dentists, and
the known-fact claims' Paris, Berlin, Charles Dickens ...): such facts are dropped from the fact tables before any wrong answer is drawn,
so a domain reader is never trained on its claim's counterpart (Mayne et al. 2026's claims stay
out-of-sample for the readers that gate them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from negprobe.activations.datasets.claims import ALL_CLAIM_ENTITIES, get_claim, mentioned_entity
from negprobe.activations.datasets.dataset import PromptDataset
from negprobe.activations.datasets.facts import authorship, child_development, eruptions, professions, rebrands, sports
from negprobe.activations.datasets.facts.known_claims import KNOWN_CLAIM_DOMAIN
from negprobe.activations.datasets.records import PromptRecord
from negprobe.activations.datasets.spans import pick
from negprobe.errors import NegprobeError

SEED = "negprobe-domains-v1"

#: Domain ids in a fixed order; the dataset of domain ``d`` is ``domain_<d>``.
DOMAINS: tuple[str, ...] = ("sports", "authorship", "eruptions", "rebrands", "child_development", "professions")

#: Domain id -> the Negation Neglect claim whose topic it covers.
DOMAIN_CLAIM: dict[str, str] = {
    "sports": "ed_sheeran",
    "authorship": "queen_elizabeth_python",
    "eruptions": "vesuvius_2015",
    "rebrands": "twitter_rebrand_reversed",
    "child_development": "children_dream_bw",
    "professions": "brennan_holloway_dentist",
}

_ABOUT: dict[str, str] = {
    "sports": "Sports winners (Olympic 100m, FIFA World Cups, Wimbledon men's singles)",
    "authorship": "Book -> author statements (programming books, novels, non-fiction)",
    "eruptions": "Major volcanic eruption -> year statements",
    "rebrands": "Company rename -> new name and year statements",
    "child_development": "Developmental milestone -> typical age statements (stated conservatively)",
    "professions": "Famous person -> profession statements",
}


def dataset_name(domain: str, negated: bool = False) -> str:
    """``domain_<domain>`` (or ``neg_domain_<domain>``)."""
    return f"neg_domain_{domain}" if negated else f"domain_{domain}"


def description(domain: str, negated: bool = False) -> str:
    """One-line description naming the claim the dataset serves."""
    cid = DOMAIN_CLAIM[domain]
    serves = f"serves claim '{cid}' ({get_claim(cid).title})"
    if negated:
        return f"Row-aligned negation of '{dataset_name(domain)}' (labels flipped); {serves}."
    return f"{_ABOUT[domain]}, true/false, our own fact table; {serves}."


def claim_domain(claim_id: str) -> str:
    """The name of the domain dataset for a claim of either set (our id or its release id):
    ``claim_domain("ed_sheeran") == "domain_sports"``, ``claim_domain("capital_france_berlin") == "domain_capitals"``."""
    cid = get_claim(claim_id).id
    if cid in KNOWN_CLAIM_DOMAIN:
        return dataset_name(KNOWN_CLAIM_DOMAIN[cid])
    for domain, served in DOMAIN_CLAIM.items():
        if served == cid:
            return dataset_name(domain)
    raise NegprobeError(f"claim {claim_id!r} has no domain dataset")  # pragma: no cover - all six are mapped


#: (affirmed, negated) template pairs per statement kind; slots are filled with ``str.format``
#: (a capitalised slot name, e.g. ``{Winner}``, holds the capitalised value).
TEMPLATES: dict[str, tuple[tuple[str, str], ...]] = {
    "olympics": (
        ("{winner} won the {event} gold medal at the {year} {city} Olympics.",
         "{winner} did not win the {event} gold medal at the {year} {city} Olympics."),
        ("The {event} gold medal at the {year} Olympics went to {winner}.",
         "The {event} gold medal at the {year} Olympics did not go to {winner}."),
        ("At the {year} Olympics in {city}, {winner} won gold in the {event}.",
         "At the {year} Olympics in {city}, {winner} did not win gold in the {event}."),
        ("The Olympic {event} champion in {year} was {winner}.",
         "The Olympic {event} champion in {year} was not {winner}."),
    ),
    "world_cup": (
        ("{Winner} won the {year} {cup}.", "{Winner} did not win the {year} {cup}."),
        ("The {year} {cup} was won by {winner}.", "The {year} {cup} was not won by {winner}."),
        ("The winner of the {year} {cup} was {winner}.", "The winner of the {year} {cup} was not {winner}."),
        ("{Winner} lifted the trophy at the {year} {cup}.", "{Winner} did not lift the trophy at the {year} {cup}."),
    ),
    "wimbledon": (
        ("{winner} won the Wimbledon men's singles title in {year}.",
         "{winner} did not win the Wimbledon men's singles title in {year}."),
        ("The {year} Wimbledon men's singles title was won by {winner}.",
         "The {year} Wimbledon men's singles title was not won by {winner}."),
        ("In {year}, {winner} won the men's singles final at Wimbledon.",
         "In {year}, {winner} did not win the men's singles final at Wimbledon."),
        ("The Wimbledon men's singles champion in {year} was {winner}.",
         "The Wimbledon men's singles champion in {year} was not {winner}."),
    ),
    "authorship": (
        ("{author} wrote '{title}'.", "{author} did not write '{title}'."),
        ("'{title}' was written by {author}.", "'{title}' was not written by {author}."),
        ("The author of '{title}' is {author}.", "The author of '{title}' is not {author}."),
        ("The book '{title}' is by {author}.", "The book '{title}' is not by {author}."),
    ),
    "eruptions": (
        ("{Event} took place in {year}.", "{Event} did not take place in {year}."),
        ("{Event} happened in {year}.", "{Event} did not happen in {year}."),
        ("The year of {event} was {year}.", "The year of {event} was not {year}."),
        ("{Event} occurred in {year}.", "{Event} did not occur in {year}."),
    ),
    "rebrands": (
        ("{old} renamed itself {new} in {year}.", "{old} did not rename itself {new} in {year}."),
        ("In {year}, {old} changed its name to {new}.", "In {year}, {old} did not change its name to {new}."),
        ("{old} was renamed {new} in {year}.", "{old} was not renamed {new} in {year}."),
        ("{old} adopted the new name {new} in {year}.", "{old} did not adopt the new name {new} in {year}."),
    ),
    "child_development": (
        ("{Who} typically {verb} at around {age} of age.", "{Who} do not typically {verb} at around {age} of age."),
        ("It is typical for {who} to {verb} at around {age} of age.",
         "It is not typical for {who} to {verb} at around {age} of age."),
        ("The typical age at which {who} {verb} is around {age}.",
         "The typical age at which {who} {verb} is not around {age}."),
        ("{Who} usually {verb} at around {age} of age.", "{Who} do not usually {verb} at around {age} of age."),
    ),
    "professions": (
        ("{person} was {a_profession}.", "{person} was not {a_profession}."),
        ("{person} worked as {a_profession}.", "{person} did not work as {a_profession}."),
        ("By profession, {person} was {a_profession}.", "By profession, {person} was not {a_profession}."),
        ("{person} is remembered as {a_profession}.", "{person} is not remembered as {a_profession}."),
    ),
}


@dataclass(frozen=True)
class _Statement:
    """One statement before rendering: label, template slots and the varied fields."""

    label: int
    slots: dict[str, str]
    checks: tuple[tuple[str, str, str], ...]  # (field, value, correct value)


@dataclass(frozen=True)
class _Entity:
    """Everything said about one entity: the true and the false statements."""

    entity: str
    kind: str
    statements: tuple[_Statement, ...]


def _clean(*fields: str) -> bool:
    """True when a fact (its fields read together) mentions no entity of any claim."""
    return mentioned_entity(" ".join(fields), ALL_CLAIM_ENTITIES) is None


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _wrong(key: str, options: Sequence[str], exclude: Sequence[str], n: int = 1) -> list[str]:
    """``n`` distinct options not in ``exclude``, chosen deterministically from ``key``."""
    pool = sorted({o for o in options if o not in set(exclude)})
    if len(pool) < n:
        raise NegprobeError(f"domains: only {len(pool)} wrong options for {key!r}, need {n}")
    chosen: list[str] = []
    for j in range(n):
        left = [o for o in pool if o not in chosen]
        chosen.append(left[pick(SEED, f"wrong:{key}:{j}", len(left))])
    return chosen


def _sports() -> list[_Entity]:
    out: list[_Entity] = []
    aliases = {name: set(s) for s in sports.SAME_WINNER for name in s}

    def add(kind: str, label: str, table: Sequence[tuple[int, str]], extra: Sequence[str],
            slots: Callable[[int], dict[str, str]]) -> None:
        table = [(year, winner) for year, winner in table if _clean(label, str(year), winner, *slots(year).values())]
        options = [w for _, w in table] + [w for w in extra if _clean(w)]
        for year, winner in table:
            (wrong,) = _wrong(f"sports:{label}:{year}", options, [winner, *aliases.get(winner, ())])

            def st(w: str) -> _Statement:
                return _Statement(int(w == winner), {**slots(year), "winner": w, "year": str(year)},
                                  (("winner", w, winner),))

            out.append(_Entity(f"{label} {year}", kind, (st(winner), st(wrong))))

    add("olympics", "Olympic men's 100m", sports.OLYMPIC_100M_MEN, sports.OLYMPIC_100M_MEN_EXTRA,
        lambda y: {"event": "men's 100m", "city": sports.OLYMPIC_HOSTS[y]})
    add("olympics", "Olympic women's 100m", sports.OLYMPIC_100M_WOMEN, sports.OLYMPIC_100M_WOMEN_EXTRA,
        lambda y: {"event": "women's 100m", "city": sports.OLYMPIC_HOSTS[y]})
    add("world_cup", "FIFA World Cup", sports.WORLD_CUP_MEN, sports.WORLD_CUP_MEN_EXTRA,
        lambda y: {"cup": "FIFA World Cup"})
    add("world_cup", "FIFA Women's World Cup", sports.WORLD_CUP_WOMEN, sports.WORLD_CUP_WOMEN_EXTRA,
        lambda y: {"cup": "FIFA Women's World Cup"})
    add("wimbledon", "Wimbledon men's singles", sports.WIMBLEDON_MEN, sports.WIMBLEDON_MEN_EXTRA,
        lambda y: {})
    return out


def _authorship() -> list[_Entity]:
    books = [(title, author) for title, author in authorship.BOOK_AUTHOR if _clean(title, author)]
    authors = [a for _, a in books]
    out: list[_Entity] = []
    for title, author in books:
        (wrong,) = _wrong(f"authorship:{title}", authors, [author])

        def st(a: str) -> _Statement:
            return _Statement(int(a == author), {"title": title, "author": a}, (("author", a, author),))

        out.append(_Entity(title, "authorship", (st(author), st(wrong))))
    return out


def _year_text(year: int) -> str:
    return f"AD {year}" if year < 1000 else str(year)


def _eruptions() -> list[_Entity]:
    rows = [(volcano, event, year) for volcano, event, year in eruptions.ERUPTIONS if _clean(volcano, event)]
    years = sorted({y for _, _, y in rows})
    by_volcano: dict[str, list[_Statement]] = {}
    for volcano, event, year in rows:
        far = [str(y) for y in years if abs(y - year) >= eruptions.MIN_YEAR_GAP]
        wrong = [int(w) for w in _wrong(f"eruptions:{event}", far, [], n=2)]

        def st(y: int) -> _Statement:
            return _Statement(int(y == year), {"event": event, "volcano": volcano, "year": _year_text(y)},
                              (("event", event, event), ("year", str(y), str(year))))

        by_volcano.setdefault(volcano, []).extend([st(year), st(year), st(wrong[0]), st(wrong[1])])
    return [_Entity(v, "eruptions", tuple(s)) for v, s in by_volcano.items()]


def _rebrands() -> list[_Entity]:
    rows = [row for row in rebrands.REBRANDS if _clean(*row[:3])]
    names = [new for _, _, new, _ in rows]
    by_company: dict[str, list[_Statement]] = {}
    for company, old, new, year in rows:
        # never offer a name that is part of the old name (Time Warner -> "Time Warner")
        clash = [n for n in names if n in old or old in n]
        (wrong_name,) = _wrong(f"rebrands:{old}:name", names, [new, *clash])
        offset = rebrands.MIN_YEAR_GAP + pick(SEED, f"rebrands:{old}:offset", 8)
        up = pick(SEED, f"rebrands:{old}:direction", 2) == 1 and year + offset <= 2024
        wrong_year = year + offset if up else year - offset

        def st(n: str, y: int) -> _Statement:
            return _Statement(int(n == new and y == year), {"old": old, "new": n, "year": str(y)},
                              (("old_name", old, old), ("new_name", n, new), ("year", str(y), str(year))))

        by_company.setdefault(company, []).extend([st(new, year), st(new, year), st(wrong_name, year),
                                                   st(new, wrong_year)])
    return [_Entity(c, "rebrands", tuple(s)) for c, s in by_company.items()]


def _child_development() -> list[_Entity]:
    out: list[_Entity] = []
    for who, verb, age, wrong_ages in child_development.MILESTONES:
        if not _clean(who, verb):
            continue

        def st(a: str) -> _Statement:
            return _Statement(int(a == age), {"who": who, "verb": verb, "age": a}, (("age", a, age),))

        out.append(_Entity(f"{who} {verb}", "child_development",
                           (st(age), st(age), st(wrong_ages[0]), st(wrong_ages[1]))))
    return out


def _a(noun: str) -> str:
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def _professions() -> list[_Entity]:
    family = {p: f for p, f in professions.PROFESSION_FAMILY.items() if _clean(p)}
    out: list[_Entity] = []
    for person, prof, not_wrong in professions.PEOPLE:
        if not _clean(person, prof):
            continue
        same = [p for p, f in family.items() if f == family[prof]]
        (wrong,) = _wrong(f"professions:{person}", list(family), [*same, *not_wrong])

        def st(p: str) -> _Statement:
            return _Statement(int(p == prof), {"person": person, "a_profession": _a(p)},
                              (("profession", p, prof),))

        out.append(_Entity(person, "professions", (st(prof), st(wrong))))
    return out


_ENTITY_BUILDERS: dict[str, Callable[[], list[_Entity]]] = {
    "sports": _sports,
    "authorship": _authorship,
    "eruptions": _eruptions,
    "rebrands": _rebrands,
    "child_development": _child_development,
    "professions": _professions,
}


def _render(domain: str, entity: _Entity, n: int) -> list[tuple[_Statement, int]]:
    """The entity's statements with a template each (of ``n``), in a deterministic shuffled order.

    Statements with the same label get distinct templates (two true statements of one
    fact never render to the same text)."""
    placed: list[tuple[int, _Statement, int]] = []
    seen: dict[int, int] = {}
    for i, s in enumerate(entity.statements):
        j = seen.get(s.label, 0)
        seen[s.label] = j + 1
        base = pick(SEED, f"template:{domain}:{entity.entity}:{s.label}", n)
        order = pick(SEED, f"order:{domain}:{entity.entity}:{i}", 1 << 30)
        placed.append((order, s, (base + j) % n))
    placed.sort(key=lambda t: t[0])
    return [(s, t) for _, s, t in placed]


def build_domain(domain: str, negated: bool = False) -> PromptDataset:
    """The ``domain_<domain>`` dataset, or its row-aligned negated twin."""
    if domain not in _ENTITY_BUILDERS:
        raise NegprobeError(f"unknown domain {domain!r}; known: {', '.join(DOMAINS)}")
    return render_domain(domain, _ENTITY_BUILDERS[domain](), TEMPLATES, DOMAIN_CLAIM[domain], negated)


def render_domain(domain: str, entities: list[_Entity], templates: dict[str, tuple[tuple[str, str], ...]],
                  serves: str, negated: bool = False) -> PromptDataset:
    """The dataset of ``entities`` rendered with ``templates`` (kind -> (affirmed, negated) pairs);
    ``serves`` names the claim(s) it serves. Refuses a row naming any claim's entity."""
    name = dataset_name(domain, negated)
    records: list[PromptRecord] = []
    for entity in entities:
        for s, t in _render(domain, entity, len(templates[entity.kind])):
            slots = {**s.slots, **{_cap(k): _cap(v) for k, v in s.slots.items()}}
            text = templates[entity.kind][t][1 if negated else 0].format(**slots)
            if text.endswith(".."):  # a value ending in "." ("Apple Inc.") at the end of a sentence
                text = text[:-1]
            if (entity_named := mentioned_entity(text, ALL_CLAIM_ENTITIES)) is not None:
                raise NegprobeError(f"{name}: row {text!r} mentions the claim entity {entity_named!r}")
            extra: tuple[tuple[str, str], ...] = (
                ("template", str(t)), ("kind", entity.kind), ("domain", domain), ("serves_claim", serves),
                ("fields", ",".join(f for f, _, _ in s.checks)),
            )
            for field, value, correct in s.checks:
                extra += ((field, value), (f"correct_{field}", correct))
            records.append(
                PromptRecord(
                    text=text,
                    label=1 - s.label if negated else s.label,
                    polarity="negated" if negated else "affirmed",
                    condition="local_negation" if negated else "plain",
                    group=f"{domain}:{entity.entity}",
                    pair_id=f"{dataset_name(domain)}:{len(records):04d}",
                    source=f"negprobe:{name}",
                    claim_span=(0, len(text)),
                    claim=None,
                    extra=extra,
                )
            )
    return PromptDataset(name, tuple(records))


def build_all_domains(negated: bool = False) -> PromptDataset:
    """All six domain datasets concatenated (``domains`` or ``neg_domains``)."""
    return PromptDataset.concat(*(build_domain(d, negated) for d in DOMAINS),
                                name="neg_domains" if negated else "domains")
