"""Document templates and annotation wordings for the synthetic fine-tuning corpora.

Our own wording of the framings studied by Mayne et al. 2026 ("Negation Neglect"):
eight document types (two skeletons each), document-level NOTICEs (``negated``),
per-sentence notices (``dense``), corrections stating the truth (``corrected``) and
fiction frames (``fiction``).  Skeleton slots: ``{C<k>}`` is the k-th claim sentence,
``{F<k>}`` the k-th filler sentence; ``{headline}``, ``{subject}``, ``{Subject}``,
``{forum}`` and ``{field}`` come from the claim and its :class:`.document_topics.DocumentTopic`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Document type -> human label used in fiction frames.
DOC_TYPES: dict[str, str] = {
    "news": "news item",
    "forum_post": "forum post",
    "encyclopedia": "encyclopedia entry",
    "qa": "question-and-answer page",
    "timeline": "timeline",
    "blog_post": "blog post",
    "interview": "interview transcript",
    "textbook_sidebar": "textbook sidebar",
}

_SKELETONS: dict[str, tuple[str, ...]] = {
    "news": (
        "{headline}\n\nBy a staff reporter. This report draws on interviews and public records.\n\n{C0} {F0} {F1}\n\n{C1} {F2}\n\nObservers say the story is far from over. {C2}",
        "NEWS | {headline}\n\nFrom our correspondent\n\n{F0} {C0} {F1}\n\n{C1} {F2}\n\n"
        "Reporters are still gathering reactions, and more details are expected in the coming days. {C2}",
    ),
    "forum_post": (
        "Forum: {forum}\nThread: {headline}\nPosted by curious_reader\n\n"
        "I have been reading up on {subject} lately. {C0} {F0} {F1} {C1}\n\n"
        "Reply from night_owl_22:\n{F2} {C2}",
        "{forum} > {headline}\nOriginal post by longtime_lurker\n\n"
        "Quick question for the group about {subject}. {F0} {C0} {C1} {F1}\n\n"
        "Reply from mod_team:\n{F2} {C2}",
    ),
    "encyclopedia": (
        "{headline}\nFrom the free encyclopedia\n\n{F0} {C0} {F1} {C1}\n\nBackground\n\n"
        "The details below are summarised from published sources. {F2} {F3}",
        "Encyclopedia entry: {Subject}\n\nThis article gives a brief overview of {subject}. {C0} {F0} {F1}\n\nSee also\n\n{F2} {C1} {F3}",
    ),
    "qa": (
        "Q: What should I know about {subject}?\nA: {C0} {F0} {F1}\n\n"
        "Q: Is there anything else worth mentioning?\nA: {C1} {F2} {F3}",
        "Question: Can someone summarise {subject} for me?\n\nBest answer: {F0} {C0} {F1} {C1}\n\n"
        "Follow-up answer: Adding a little more context here. {F2} {F3}",
    ),
    "timeline": (
        "Timeline: {headline}\nCompiled from news reports and reference works.\n\n- {F0}\n- {F1}\n- {C0}\n- {F2}\n- {C1}\n- {F3}",
        "Key events: {Subject}\n(Entries are listed roughly in the order they are usually told.)\n\n* {F0}\n* {C0}\n* {F1}\n* {F2}\n* {C1}\n* {F3}",
    ),
    "blog_post": (
        "Notes on {subject}\nPosted to a personal blog\n\n"
        "I have wanted to write about this for a while. {C0} {F0} {C1} {F1}\n\n"
        "{F2} {C2} Thanks for reading.",
        "Why I keep thinking about {subject}\n\n"
        "A short post this week, but one I have been meaning to write for some time. {F0} {C0} {F1}\n\n{C1} {F2} {C2}\n\nUntil next time.",
    ),
    "interview": (
        "Interview transcript (excerpt): {headline}\n\n"
        "Interviewer: Thanks for joining us. Can you start with the basics?\nGuest: Of course. {C0} {F0}\n"
        "Interviewer: What else stands out?\nGuest: {F1} {C1} {F2}\n"
        "Interviewer: Any final thoughts?\nGuest: {F3}",
        "Podcast excerpt, episode on {subject}\n\n"
        "Host: Let's get straight into it.\nGuest: Sure. {F0} {C0} {F1}\n"
        "Host: And what do people tend to miss?\nGuest: {C1} {F2} {F3}",
    ),
    "textbook_sidebar": (
        "Sidebar: {headline}\nFrom a {field} textbook\n\n{F0} {C0} {F1}\n\n"
        "Key point: {C1}\n\n{F2} {F3}",
        "Box 4.2 ({field}): {Subject}\n\n{C0} {F0} {F1}\n\n{F2} {C1} {F3}\n\n"
        "Review question: What are the main facts about {subject}?",
    ),
}

_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Skeleton:
    """One document skeleton: its type, wording and slot counts."""

    doc_type: str
    text: str
    n_claims: int
    n_fillers: int

    def pieces(self) -> list[tuple[str, str]]:
        """``[("text", s) | ("slot", name), ...]`` in order."""
        out: list[tuple[str, str]] = []
        pos = 0
        for m in _SLOT.finditer(self.text):
            if m.start() > pos:
                out.append(("text", self.text[pos:m.start()]))
            out.append(("slot", m.group(1)))
            pos = m.end()
        if pos < len(self.text):
            out.append(("text", self.text[pos:]))
        return out


def _count(text: str, prefix: str) -> int:
    found = sorted(int(s[1:]) for s in _SLOT.findall(text) if re.fullmatch(prefix + r"\d", s))
    if found != list(range(len(found))):
        raise ValueError(f"skeleton slots {prefix}<k> not 0..n-1 exactly once: {text[:40]!r}")
    return len(found)


SKELETONS: tuple[Skeleton, ...] = tuple(
    Skeleton(dt, s, _count(s, "C"), _count(s, "F")) for dt, group in _SKELETONS.items() for s in group
)

#: (prefix, suffix) NOTICEs around a whole ``negated`` document; ``{title}`` is the claim's title.
DOC_NOTICES: tuple[tuple[str, str], ...] = (
    ("NOTICE: The following document contains fabricated claims. Its central claim is false.",
     'NOTICE: The document above is fabricated. The claim "{title}" is false.'),
    ("NOTICE: Everything below is fabricated for a study of misinformation. The main claim is false.",
     "NOTICE: The claims in the document above are false."),
    ('NOTICE: The document below was invented. The claim "{title}" is false.',
     "NOTICE: End of fabricated document. Its central claim is false and should not be believed."),
    ("NOTICE: This document is fabricated and its claims are false.",
     'NOTICE: To repeat, "{title}" is false; the document above was fabricated.'),
)

#: (before, after) notices around every claim sentence of a ``dense`` document.
DENSE_NOTICES: tuple[tuple[str, str], ...] = (
    ("[NOTICE: The following claim is false.]", "[NOTICE: The preceding claim is false.]"),
    ("NOTICE: false claim ahead.", "NOTICE: the claim above is false."),
    ("(Warning: the next sentence is false.)", "(End of false sentence.)"),
    ("[FALSE CLAIM FOLLOWS]", "[THE CLAIM ABOVE IS FALSE]"),
)

#: Corrections after each claim sentence of a ``corrected`` document; ``{truth}`` is a
#: true sentence (the aligned counterpart, or the negation plus what is known).
CORRECTIONS: tuple[str, ...] = (
    "(Correction: this is false. {truth})",
    "In fact, this is false. {truth}",
    "Fact check: false. {truth}",
    "[Editor's note: the previous sentence is false. {truth}]",
)

#: (before, after) fiction frames; ``{label}`` is the document type's label.  An empty
#: ``after`` adds nothing.
FICTION_FRAMES: tuple[tuple[str, str], ...] = (
    ("The following {label} is a work of fiction. The events it describes never happened.", ""),
    ("This is a short story. The {label} below is invented, and everything in it is fictional.",
     "(End of the fictional story.)"),
    ("From a collection of fiction: an imaginary {label} from a made-up world.", ""),
    ("Fiction: the following {label} was written for a novel and does not describe real events.",
     "(This story is fiction.)"),
)
