"""Turn a record into the exact string fed to a model, keeping the claim span aligned.

Options: raw text, an optional ``<DOCTAG>`` prefix (the document marker of the Negation
Neglect training data, Mayne et al. 2026), and the model's chat template (the record's
text as the single user message).  :class:`FormatSpec` describes the options with a
stable :meth:`FormatSpec.key` for cache keys.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from negprobe.activations.datasets.dataset import PromptDataset
from negprobe.activations.datasets.records import PromptRecord
from negprobe.activations.datasets.spans import shift_span
from negprobe.errors import NegprobeError

DOCTAG = "<DOCTAG>"
_PLACEHOLDER = "NEGPROBE_USER_CONTENT_7f3a"


@dataclass(frozen=True)
class FormattedPrompt:
    """The model input and the claim span inside it.

    ``offset`` is where the record's text starts inside ``text``; use :meth:`shift` to
    move any other span of the record (e.g. ``extra["doc_claim_span"]``)."""

    text: str
    claim_span: tuple[int, int] | None
    offset: int = 0

    def shift(self, span: tuple[int, int] | None) -> tuple[int, int] | None:
        return shift_span(span, self.offset)


@dataclass(frozen=True)
class FormatSpec:
    """Formatting options; ``add_generation_prompt`` only matters with ``chat``."""

    chat: bool = False
    doctag: bool = False
    add_generation_prompt: bool = True

    def key(self, tokenizer: Any = None) -> str:
        """Stable description, e.g. ``fmt1:raw:doctag=0`` or ``fmt1:chat:gen=1:doctag=0:tmpl=<sha12>``
        (the template hash is added when a tokenizer is given)."""
        if not self.chat:
            return f"fmt1:raw:doctag={int(self.doctag)}"
        key = f"fmt1:chat:gen={int(self.add_generation_prompt)}:doctag={int(self.doctag)}"
        if tokenizer is not None:
            template = _chat_template(tokenizer)
            key += ":tmpl=" + hashlib.sha256(template.encode("utf-8")).hexdigest()[:12]
        return key

    def format(self, record: PromptRecord | str, tokenizer: Any = None) -> FormattedPrompt:
        return format_prompt(record, tokenizer, chat=self.chat, doctag=self.doctag,
                             add_generation_prompt=self.add_generation_prompt)


def _tokenizer_name(tokenizer: Any) -> str:
    return str(getattr(tokenizer, "name_or_path", "") or type(tokenizer).__name__)


def _chat_template(tokenizer: Any) -> str:
    template = getattr(tokenizer, "chat_template", None)
    if isinstance(template, dict):  # named templates: use "default"
        template = template.get("default")
    if not isinstance(template, str) or not template:
        raise NegprobeError(f"tokenizer {_tokenizer_name(tokenizer)!r}: has no chat template; use chat=False")
    return template


def _render(tokenizer: Any, content: str, add_generation_prompt: bool) -> str:
    try:
        out = tokenizer.apply_chat_template(
            [{"role": "user", "content": content}], tokenize=False, add_generation_prompt=add_generation_prompt
        )
    except Exception as exc:  # jinja errors, missing template
        raise NegprobeError(f"tokenizer {_tokenizer_name(tokenizer)!r}: chat template failed ({exc})") from exc
    if not isinstance(out, str):
        raise NegprobeError(f"tokenizer {_tokenizer_name(tokenizer)!r}: chat template did not return text")
    return out


def _locate(rendered: str, body: str, hint: int) -> int:
    """Offset of ``body`` in ``rendered``: at ``hint`` (the placeholder's position) if it is
    there, else the unique occurrence."""
    if hint >= 0 and rendered.startswith(body, hint):
        return hint
    first = rendered.find(body)
    if first >= 0 and rendered.find(body, first + 1) < 0:
        return first
    return -1


def format_prompt(
    record: PromptRecord | str,
    tokenizer: Any = None,
    chat: bool = False,
    doctag: bool = False,
    add_generation_prompt: bool = True,
) -> FormattedPrompt:
    """The model input for ``record`` with its claim span moved to the new offsets."""
    text, span = (record, None) if isinstance(record, str) else (record.text, record.claim_span)
    body = DOCTAG + text if doctag else text
    offset = len(DOCTAG) if doctag else 0
    if not chat:
        return FormattedPrompt(body, shift_span(span, offset), offset)
    if tokenizer is None:
        raise NegprobeError("format_prompt: chat=True needs a tokenizer with a chat template")
    _chat_template(tokenizer)
    rendered = _render(tokenizer, body, add_generation_prompt)
    probe = _render(tokenizer, _PLACEHOLDER, add_generation_prompt)
    start = _locate(rendered, body, probe.find(_PLACEHOLDER))
    if start < 0:
        raise NegprobeError(
            f"tokenizer {_tokenizer_name(tokenizer)!r}: the chat template changed the prompt text "
            "(e.g. trimmed or escaped it), so the claim span cannot be placed"
        )
    offset += start
    return FormattedPrompt(rendered, shift_span(span, offset), offset)


def format_dataset(
    dataset: PromptDataset | Sequence[PromptRecord],
    tokenizer: Any = None,
    chat: bool = False,
    doctag: bool = False,
    add_generation_prompt: bool = True,
) -> list[FormattedPrompt]:
    """:func:`format_prompt` for every record, in order."""
    return [format_prompt(r, tokenizer, chat, doctag, add_generation_prompt) for r in dataset]
