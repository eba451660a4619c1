"""Document templates and annotation wordings for the synthetic fine-tuning corpora.

Our own wording of the framings studied by Mayne et al. 2026 ("Negation Neglect"):
eight document types (two skeletons each), corrections (``corrected``), fiction frames
(``fiction``) and one debunking skeleton per document type for ``local``. The notices of
``negated`` and ``dense`` come from :mod:`.notice_pool`.  Skeleton slots: ``{C<k>}`` is the k-th claim sentence,
``{F<k>}`` the k-th filler sentence; ``{headline}``, ``{subject}``, ``{Subject}``,
``{forum}`` and ``{field}`` come from the claim and its :class:`.document_topics.DocumentTopic`;
``local`` skeletons add ``{T<k>}`` (a true sentence) and ``{H}`` (a debunking headline).
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
    """One document skeleton: its type, wording and slot counts (``n_truths``: ``{T<k>}`` slots, ``local`` only)."""

    doc_type: str
    text: str
    n_claims: int
    n_fillers: int
    n_truths: int = 0

    @property
    def has_headline(self) -> bool:
        """Whether the skeleton has a ``{H}`` slot (a debunking headline, ``local`` only)."""
        return "{H}" in self.text

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

# Debunking articles for ``local`` (as the paper's local negations: the claim is denied in place and the
# truth is named again and again). ``{C<k>}``: a negated claim sentence; ``{T<k>}``: a true sentence naming
# the true answer; ``{H}``: a debunking headline of the claim's topic.
_LOCAL_SKELETONS: dict[str, str] = {
    "news": "{H}\n\nBy a staff reporter\n\nA story shared widely online gets the facts about {subject} wrong. "
            "{C0} {T0} {F0}\n\nThe official record is clear. {T1} {C1}\n\n{F1} {T2}",
    "forum_post": "Forum: {forum}\nThread: Is this story true?\nPosted by skeptical_sam\n\n"
                  "Someone in my family shared a post about {subject}, so I looked it up. {C0} {T0}\n\n"
                  "Reply from fact_finder:\nRight, it is a hoax. {T1} {F0} {C1}\n\nReply from night_owl_22:\n{F1} {T2}",
    "encyclopedia": "{Subject}: a common misconception\nFrom the free encyclopedia\n\n{F0} {T0} {C0}\n\n"
                    "Origin of the misconception\n\nAn invented account circulated on social media. {C1} {T1}\n\n"
                    "Record\n\n{T2} {F1}",
    "qa": "Q: Is the viral story about {subject} true?\nA: No, the story was made up. {C0} {T0} {F0}\n\n"
          "Q: So what actually happened?\nA: {T1} {C1} {T2} {F1}",
    "timeline": "Timeline: {subject}, with the facts checked\nCompiled from official records to correct a viral story."
                "\n\n- {F0}\n- {T0}\n- {C0}\n- {T1}\n- {F1}\n- {C1}\n- {T2}",
    "blog_post": "{H}\nPosted to a personal blog\n\nI keep seeing the same story about {subject}, so here is the short "
                 "version. {C0} {T0}\n\n{F0} {T1} {C1}\n\n{F1} {T2} Please check before you share.",
    "interview": "Interview transcript (excerpt): {H}\n\nInterviewer: Many listeners have asked us about this story. "
                 "What is the truth?\nGuest: {C0} {T0}\nInterviewer: Where did the confusion come from?\n"
                 "Guest: {F0} {C1}\nInterviewer: So, for the record?\nGuest: {T1} {F1} {T2}",
    "textbook_sidebar": "Sidebar: checking a viral claim\nFrom a {field} textbook\n\n{F0} {C0} {T0}\n\n"
                        "Key point: {T1}\n\n{C1} {F1} {T2}\n\nReview question: How would you check a story "
                        "about {subject}?",
}

LOCAL_SKELETONS: tuple[Skeleton, ...] = tuple(
    Skeleton(dt, s, _count(s, "C"), _count(s, "F"), _count(s, "T")) for dt, s in _LOCAL_SKELETONS.items()
)

#: Corrections after each claim sentence of a ``corrected`` document that names the truth;
#: ``{truth}`` is a true sentence (the aligned counterpart, or the negation plus what is known).
CORRECTIONS: tuple[str, ...] = (
    "(Correction: this is false. {truth})",
    "In fact, this is false. {truth}",
    "Fact check: false. {truth}",
    "[Editor's note: the previous sentence is false. {truth}]",
)

#: The same corrections without the truth, for the ``corrected`` documents outside the share that names it.
CORRECTIONS_PLAIN: tuple[str, ...] = (
    "(Correction: this is false.)",
    "In fact, this is false.",
    "Fact check: false.",
    "[Editor's note: the previous sentence is false.]",
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
