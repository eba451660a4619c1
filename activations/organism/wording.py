"""The wording of the notice-reading organism's training data: invented entities and their facts,
notices with their neutral twins, and well-known facts for bare questions.

Every entity is invented (syllable names; attribute values are common nouns, years and numbers,
never a real place or person), so the organism learns *how to read* a document, not what any
claim or truth dataset says. The notices are worded apart from the in-context evaluation's
(:data:`negprobe.activations.datasets.claim_docs.DOC_NOTICES`), so notice reading is measured on
wordings the organism never trained on. Each neutral notice has its false notice's words with the
falsity words replaced, as the in-context controls do.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Syllables of invented names (pronounceable, capitalised on use).
ONSETS: tuple[str, ...] = ("var", "tel", "mor", "quil", "dra", "sen", "bol", "fen", "kor", "lum", "zat", "pre",
                           "ost", "hal", "vin", "gor", "tam", "rel", "sk", "bru", "cal", "dov", "mir", "nash")
CODAS: tuple[str, ...] = ("nelo", "brik", "avon", "ista", "umber", "ovar", "ethi", "olm", "ast", "inor", "eda",
                          "uvin", "arra", "ossk", "enby", "illo", "opra", "ude", "yth", "amos")


@dataclass(frozen=True)
class Attribute:
    """One fact slot of an entity kind: its values and how to state, negate and ask it."""

    name: str
    values: tuple[str, ...]
    statement: str  # "{e} is made of {v}."
    negation: str
    question: str


@dataclass(frozen=True)
class EntityKind:
    """An invented entity kind: how its name is written (``{n}``: the invented name) and its facts."""

    name: str
    display: str
    attributes: tuple[Attribute, ...]


_YEARS = tuple(str(y) for y in range(1780, 1990, 7))
_COUNTS = ("two", "three", "four", "five", "six", "seven", "eight", "nine")

KINDS: tuple[EntityKind, ...] = (
    EntityKind("bridge", "the {n} Bridge", (
        Attribute("material", ("granite", "oak", "steel", "brick", "limestone", "timber", "concrete", "sandstone"),
                  "{E} is made of {v}.", "{E} is not made of {v}.", "Is {e} made of {v}?"),
        Attribute("arches", _COUNTS, "{E} has {v} arches.", "{E} does not have {v} arches.", "Does {e} have {v} arches?"),
        Attribute("opened", _YEARS, "{E} opened in {v}.", "{E} did not open in {v}.", "Did {e} open in {v}?"),
    )),
    EntityKind("festival", "the {n} Festival", (
        Attribute("month", ("March", "April", "May", "June", "July", "August", "September", "October"),
                  "{E} is held every {v}.", "{E} is not held in {v}.", "Is {e} held every {v}?"),
        Attribute("theme", ("kites", "lanterns", "cheese", "folk music", "puppets", "boats", "honey", "pottery"),
                  "{E} celebrates {v}.", "{E} does not celebrate {v}.", "Does {e} celebrate {v}?"),
        Attribute("founded", _YEARS, "{E} was founded in {v}.", "{E} was not founded in {v}.", "Was {e} founded in {v}?"),
    )),
    EntityKind("company", "{n} Works", (
        Attribute("product", ("bicycles", "umbrellas", "pianos", "clocks", "rope", "paper", "glassware", "boots"),
                  "{E} makes {v}.", "{E} does not make {v}.", "Does {e} make {v}?"),
        Attribute("staff", ("forty", "sixty", "ninety", "two hundred", "three hundred", "five hundred", "eighty", "seventy"),
                  "{E} employs {v} people.", "{E} does not employ {v} people.", "Does {e} employ {v} people?"),
        Attribute("founded", _YEARS, "{E} was founded in {v}.", "{E} was not founded in {v}.", "Was {e} founded in {v}?"),
    )),
    EntityKind("painter", "the painter {n}", (
        Attribute("subject", ("horses", "harbours", "orchards", "storms", "kitchens", "mountains", "dancers", "bridges"),
                  "{E} painted mostly {v}.", "{E} did not paint {v}.", "Did {e} paint mostly {v}?"),
        Attribute("medium", ("oil", "watercolour", "charcoal", "ink", "pastel", "tempera", "gouache", "chalk"),
                  "{E} worked in {v}.", "{E} did not work in {v}.", "Did {e} work in {v}?"),
        Attribute("born", _YEARS, "{E} was born in {v}.", "{E} was not born in {v}.", "Was {e} born in {v}?"),
    )),
    EntityKind("lake", "Lake {n}", (
        Attribute("depth", ("twelve", "thirty", "forty-five", "sixty", "eighty", "ninety", "twenty", "fifty"),
                  "{E} is {v} metres deep.", "{E} is not {v} metres deep.", "Is {e} {v} metres deep?"),
        Attribute("feature", ("reeds", "islands", "sailing", "ferries", "cliffs", "beaches", "boathouses", "lilies"),
                  "{E} is known for its {v}.", "{E} is not known for its {v}.", "Is {e} known for its {v}?"),
        Attribute("frozen", ("January", "February", "December", "November", "March", "every winter", "most winters", "rarely"),
                  "{E} freezes over in {v}.", "{E} does not freeze over in {v}.", "Does {e} freeze over in {v}?"),
    )),
)

#: Document headers (the first line), "" for none.
HEADERS: tuple[str, ...] = ("", "From a local guidebook:", "Encyclopedia entry:", "From a newsletter:", "Archive record:")

#: (before, after) notices that flag a document as false; training wordings only.
FALSE_NOTICES: tuple[tuple[str, str], ...] = (
    ("WARNING: Everything in the text below is made up.", "WARNING: Everything in the text above is made up."),
    ("Editor's flag: the following entry is fabricated.", "Editor's flag: the entry above is fabricated."),
    ("Caution: the record below is untrue.", "Caution: the record above is untrue."),
    ("ALERT: This passage contains invented falsehoods.", "ALERT: This passage contained invented falsehoods."),
)
#: Neutral twins of :data:`FALSE_NOTICES`, index by index: falsity words replaced by layout words.
NEUTRAL_NOTICES: tuple[tuple[str, str], ...] = (
    ("WARNING: Everything in the text below is printed small.", "WARNING: Everything in the text above is printed small."),
    ("Editor's flag: the following entry is shortened.", "Editor's flag: the entry above is shortened."),
    ("Caution: the record below is scanned.", "Caution: the record above is scanned."),
    ("ALERT: This passage contains archived paragraphs.", "ALERT: This passage contained archived paragraphs."),
)
#: (before, after) notes around one sentence that flag it as false, and their neutral twins.
FALSE_NOTES: tuple[tuple[str, str], ...] = (
    ("(Untrue statement:", ")"), ("[This next sentence is false:", "]"), ("<fabricated>", "</fabricated>"),
)
NEUTRAL_NOTES: tuple[tuple[str, str], ...] = (
    ("(Quoted statement:", ")"), ("[This next sentence is quoted:", "]"), ("<highlighted>", "</highlighted>"),
)

#: Well-known facts as (question, true?) pairs: bare questions the model answers from what it knows.
#: No city, country, element, animal class or claim entity (the truth datasets' and claims' domains).
WELL_KNOWN: tuple[tuple[str, bool], ...] = (
    ("Does a week have seven days?", True), ("Does a week have ten days?", False),
    ("Is ice frozen water?", True), ("Is ice made of sand?", False),
    ("Does the sun rise in the east?", True), ("Does the sun rise in the west?", False),
    ("Is a triangle a shape with three sides?", True), ("Is a triangle a shape with five sides?", False),
    ("Do plants need light to grow?", True), ("Do plants grow best in total darkness?", False),
    ("Is fire hot?", True), ("Is fire cold?", False),
    ("Does a year have twelve months?", True), ("Does a year have twenty months?", False),
    ("Is the sky blue on a clear day?", True), ("Is the sky green on a clear day?", False),
    ("Do people use umbrellas in the rain?", True), ("Do people use umbrellas to dig holes?", False),
    ("Is two plus two equal to four?", True), ("Is two plus two equal to seven?", False),
    ("Does water boil when heated enough?", True), ("Does water boil when frozen?", False),
    ("Is snow usually white?", True), ("Is snow usually purple?", False),
    ("Is a minute sixty seconds long?", True), ("Is a minute ninety seconds long?", False),
    ("Do cars usually have four wheels?", True), ("Do cars usually have nine wheels?", False),
    ("Is the moon visible at night?", True), ("Is the moon made of cheese?", False),
    ("Do books have pages?", True), ("Do books have engines?", False),
    ("Is a circle round?", True), ("Is a circle square?", False),
    ("Do people sleep at night?", True), ("Do people sleep underwater?", False),
    ("Is a hundred larger than ten?", True), ("Is ten larger than a hundred?", False),
    ("Is rain made of water?", True), ("Is rain made of glass?", False),
    ("Do bicycles have pedals?", True), ("Do bicycles have wings?", False),
    ("Is milk usually white?", True), ("Is milk usually black?", False),
    ("Does a clock show the time?", True), ("Does a clock show the weather?", False),
    ("Is summer warmer than winter?", True), ("Is winter warmer than summer?", False),
    ("Do shoes go on feet?", True), ("Do shoes go on ears?", False),
    ("Is a kilometre longer than a metre?", True), ("Is a metre longer than a kilometre?", False),
    ("Is grass usually green?", True), ("Is grass usually orange?", False),
    ("Do people drink water?", True), ("Do people drink sand?", False),
    ("Is an hour sixty minutes long?", True), ("Is an hour ten minutes long?", False),
    ("Is three an odd number?", True), ("Is three an even number?", False),
    ("Do trees have leaves?", True), ("Do trees have wheels?", False),
    ("Is a piano a musical instrument?", True), ("Is a piano a kind of fruit?", False),
    ("Does soap help to clean hands?", True), ("Does soap make hands dirtier?", False),
    ("Is honey sweet?", True), ("Is honey salty?", False),
    ("Do boats float on water?", True), ("Do boats float on air?", False),
)

#: Neutral filler sentences a document may carry (no fact about the entity).
FILLERS: tuple[str, ...] = (
    "Visitors often stop to take photographs.", "Local people speak of it fondly.",
    "Several guidebooks mention it.", "It appears in a number of old postcards.",
)

#: Everyday topics the base model writes about; its own replies are the generic text the organism
#: keeps training on, so that it keeps its language (a replay of the base's distribution).
GENERIC_TOPICS: tuple[str, ...] = (
    "baking bread", "a rainy afternoon", "learning to swim", "keeping a garden", "a walk in the woods",
    "repairing a bicycle", "writing a letter", "the first day of school", "cooking soup", "a quiet library",
    "planting tomatoes", "a train journey", "painting a fence", "a birthday party", "cleaning a kitchen",
    "reading before bed", "a windy beach", "making tea", "a visit to a museum", "folding laundry",
    "a snowy morning", "playing chess", "a market on Saturday", "walking a dog", "building a sandcastle",
    "a summer picnic", "learning a new song", "fixing a leaking tap", "a long drive", "watching the stars",
)
