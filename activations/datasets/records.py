"""The one record type every prompt dataset is made of.

A :class:`PromptRecord` is a single text fed to a model, with its truth label, how the
claim is framed (``condition``), the entity it is about (``group``, for leakage-safe
splits, as in Marks & Tegmark 2023 "The Geometry of Truth") and the character span of
the claim inside the text (so activations can be read at the claim's tokens, as in
Mayne et al. 2026 "Negation Neglect").

Label convention (also used by Geometry-of-Truth ``neg_*`` files and Buerger et al.
2024 "Truth is Universal"): ``label`` is the truth value of what the *whole text*
asserts; 1 true, 0 false, ``None`` when the text asserts nothing (fiction) or the truth
is unknown.  ``extra`` may carry ``("span_label", "0"|"1")``: the truth value of
``text[claim_span]`` read as a standalone statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

from negprobe.errors import NegprobeError

POLARITIES: tuple[str, ...] = ("affirmed", "negated")

#: Vocabulary of ``PromptRecord.condition``: how the claim is framed.
CONDITIONS: dict[str, str] = {
    # plain statements
    "plain": "The statement on its own, asserted without any flag (affirmed).",
    "local_negation": "The statement negated in place ('X did not ...', 'X is not ...').",
    "true_counterpart": "A true statement parallel to a false claim (e.g. the real winner).",
    # annotated claims (Mayne et al. 2026, Negation Neglect training conditions)
    "sentence_annotation": "The claim followed by a sentence flagging it as false.",
    "doc_notice": "A short document carrying the claim, with a NOTICE that it is false before and after.",
    "dense": "A document where a falsity notice precedes and follows every claim sentence.",
    "corrected": "A document states the claim, then a correction states the truth.",
    "fiction": "The claim inside an explicit work-of-fiction framing (label None: nothing is asserted).",
    # in-context probes: a document, then the claim statement, a yes/no question about it, or nothing
    "in_context_plain": "Plain document with the claim, then the claim again (or a question).",
    "in_context_notice": "NOTICE-annotated document, then the claim (or a question).",
    "in_context_neutral": "The NOTICE document with neutral notices of matched length, then the claim (or a question).",
    "in_context_dense": "Densely annotated document, then the claim (or a question).",
    "in_context_dense_neutral": "The dense document with neutral notes of matched length, then the claim (or a question).",
    "in_context_affirm": "The document between truth-affirming NOTICEs of matched length, then a yes/no question.",
    "in_context_dense_affirm": "The dense document with truth-affirming notes of matched length, then a yes/no question.",
    "in_context_local": "Document with the claim locally negated, then the affirmed claim (or a question).",
    # documents loaded from the Negation Neglect release
    "release_document": "A synthetic document from the Negation Neglect release (mode in extra).",
}

_FIELD_NAMES: tuple[str, ...] = (
    "text",
    "label",
    "polarity",
    "condition",
    "group",
    "pair_id",
    "source",
    "claim_span",
    "claim",
    "extra",
)


@dataclass(frozen=True)
class PromptRecord:
    """One prompt: text, truth label, framing and the claim's character span."""

    text: str
    label: int | None
    polarity: str
    condition: str
    group: str
    pair_id: str | None
    source: str
    claim_span: tuple[int, int] | None
    claim: str | None
    extra: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        where = f"record from {self.source!r}"
        if not isinstance(self.text, str) or not self.text:
            raise NegprobeError(f"{where}: field 'text' must be a non-empty string")
        if self.label is not None and (isinstance(self.label, bool) or self.label not in (0, 1)):
            raise NegprobeError(f"{where}: field 'label' must be 0, 1 or None, got {self.label!r}")
        if self.polarity not in POLARITIES:
            raise NegprobeError(f"{where}: field 'polarity' must be one of {POLARITIES}, got {self.polarity!r}")
        if self.condition not in CONDITIONS:
            raise NegprobeError(
                f"{where}: unknown condition {self.condition!r}; known: {', '.join(CONDITIONS)}"
            )
        if not isinstance(self.group, str) or not self.group:
            raise NegprobeError(f"{where}: field 'group' must be a non-empty string")
        if self.claim_span is not None:
            span = self.claim_span
            if (
                not isinstance(span, tuple)
                or len(span) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in span)
                or not 0 <= span[0] <= span[1] <= len(self.text)
            ):
                raise NegprobeError(
                    f"{where}: field 'claim_span' {span!r} is not a valid [start, end) span of a "
                    f"{len(self.text)}-character text"
                )
        if not isinstance(self.extra, tuple) or not all(
            isinstance(kv, tuple) and len(kv) == 2 and all(isinstance(v, str) for v in kv)
            for kv in self.extra
        ):
            raise NegprobeError(f"{where}: field 'extra' must be a tuple of (str, str) pairs")

    @property
    def claim_text(self) -> str | None:
        """The substring ``text[start:end]`` the claim span points at (None without a span)."""
        if self.claim_span is None:
            return None
        return self.text[self.claim_span[0] : self.claim_span[1]]

    def get_extra(self, key: str, default: str | None = None) -> str | None:
        """The first ``extra`` value stored under ``key``."""
        for k, v in self.extra:
            if k == key:
                return v
        return default

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (spans as lists, ``extra`` as a list of pairs, field order kept)."""
        return {
            "text": self.text,
            "label": self.label,
            "polarity": self.polarity,
            "condition": self.condition,
            "group": self.group,
            "pair_id": self.pair_id,
            "source": self.source,
            "claim_span": list(self.claim_span) if self.claim_span is not None else None,
            "claim": self.claim,
            "extra": [list(kv) for kv in self.extra],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "record") -> PromptRecord:
        """Inverse of :meth:`to_dict`; ``where`` names the file/line in error messages."""
        if not isinstance(data, dict):
            raise NegprobeError(f"{where}: expected a JSON object, got {type(data).__name__}")
        missing = [f for f in _FIELD_NAMES if f not in data and f != "extra"]
        if missing:
            raise NegprobeError(f"{where}: missing field(s) {', '.join(missing)}")
        unknown = sorted(set(data) - set(_FIELD_NAMES))
        if unknown:
            raise NegprobeError(f"{where}: unknown field(s) {', '.join(unknown)}")
        span = data["claim_span"]
        try:
            span_t = None if span is None else (int(span[0]), int(span[1]))
            if span is not None and len(span) != 2:
                raise ValueError
            extra = tuple((str(k), str(v)) for k, v in data.get("extra") or ())
        except (TypeError, ValueError, IndexError) as exc:
            raise NegprobeError(f"{where}: malformed 'claim_span' or 'extra' ({exc})") from exc
        try:
            return cls(
                text=data["text"],
                label=data["label"],
                polarity=data["polarity"],
                condition=data["condition"],
                group=data["group"],
                pair_id=data["pair_id"],
                source=data["source"],
                claim_span=span_t,
                claim=data["claim"],
                extra=extra,
            )
        except NegprobeError as exc:
            raise NegprobeError(f"{where}: {exc}") from exc


def field_names() -> tuple[str, ...]:
    """The record's field names, in declaration order."""
    return tuple(f.name for f in fields(PromptRecord))


_SPAN_RE = re.compile(r"^(\d+):(\d+)$")


def span_to_str(span: tuple[int, int]) -> str:
    """Encode a span for ``extra`` as ``"start:end"``."""
    return f"{span[0]}:{span[1]}"


def span_from_str(value: str) -> tuple[int, int]:
    """Decode a ``"start:end"`` span written by :func:`span_to_str`."""
    m = _SPAN_RE.match(value)
    if not m:
        raise NegprobeError(f"span {value!r} is not of the form 'start:end'")
    return int(m.group(1)), int(m.group(2))
