"""Readers for external data: truth CSVs and the Negation Neglect release.

(a) Geometry-of-Truth style CSVs (Marks & Tegmark 2023; also the Truth-is-Universal
    files of Buerger et al. 2024): columns ``statement,label,...``.
(b) The Negation Neglect release (Mayne et al. 2026): ``facts/<claim>/{claim.txt,
    mcq.yaml, belief_probes.yaml, universe_context.yaml}`` and
    ``data/sdf_documents/<condition>/<claim>/*.jsonl`` (``text, doc_type, fact_name, mode``).

Every bad input raises :class:`NegprobeError` naming the file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from negprobe.activations.datasets.claims import RELEASE_IDS
from negprobe.activations.datasets.dataset import PromptDataset
from negprobe.activations.datasets.records import PromptRecord
from negprobe.errors import NegprobeError

# ---------------------------------------------------------------------------------------
# (a) truth CSVs
# ---------------------------------------------------------------------------------------

#: Columns that name the entity a statement is about, in priority order.
GROUP_COLUMNS: tuple[str, ...] = ("group", "city", "element", "animal", "entity", "subject", "country")
_TRUE = {"1", "1.0", "true"}
_FALSE = {"0", "0.0", "false"}
_NEGATION_CUES = (" not ", "n't ", " never ")
#: Notices (dropped conflicting rows): printed at once, or kept here while $NEGPROBE_DEFER_NOTICES is set
#: (the CLI prints them after a successful run, so an error line stays alone).
NOTICES: list[str] = []


def _read_utf8(path: Path) -> str:
    if not path.is_file():
        raise NegprobeError(f"{path}: file not found")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NegprobeError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NegprobeError(
            f"{path}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); re-save it as UTF-8"
        ) from exc


def is_negated_statement(statement: str) -> bool:
    """Heuristic: the statement contains " not ", "n't" or " never "."""
    s = f" {statement.lower().rstrip('.!?')} "
    return any(cue in s for cue in _NEGATION_CUES)


def _parse_label(raw: str | None, where: str) -> int:
    value = (raw or "").strip().lower()
    if value in _TRUE:
        return 1
    if value in _FALSE:
        return 0
    raise NegprobeError(f"{where}: label {raw!r} is not binary (expected 0/1 or True/False)")


def _group(row: dict[str, str], columns: list[str], statement: str) -> str:
    for col in GROUP_COLUMNS:
        if col in columns and (row.get(col) or "").strip():
            return row[col].strip()
    if "n1" in columns and "n2" in columns and row.get("n1") and row.get("n2"):
        a, b = row["n1"].strip(), row["n2"].strip()
        try:
            a, b = (str(v) for v in sorted((int(a), int(b))))
        except ValueError:
            a, b = sorted((a, b))
        return f"{a}-{b}"
    if "n1" in columns and (row.get("n1") or "").strip():
        return row["n1"].strip()
    return statement


#: Longest CSV field accepted (the csv module's default, 128 KB, refuses long documents).
MAX_CSV_FIELD = 2**31 - 1


def _csv_rows(path: Path, text: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """(columns, [(line number, row)]) of a CSV; a malformed file fails naming its line."""
    csv.field_size_limit(max(csv.field_size_limit(), MAX_CSV_FIELD))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        columns = [c.strip() for c in (reader.fieldnames or [])]
        reader.fieldnames = columns
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise NegprobeError(f"{path}:{reader.line_num}: malformed CSV ({exc})") from None
    missing = [c for c in ("statement", "label") if c not in columns]
    if missing:
        raise NegprobeError(
            f"{path}: missing required column(s) {', '.join(missing)} (found: {', '.join(columns) or 'none'})"
        )
    return columns, rows


def _conflicts(path: Path, rows: list[tuple[int, str, int]], drop: bool) -> set[str]:
    """Statements that appear under both labels: refused, or (``drop``) returned to be dropped."""
    labels: dict[str, dict[int, int]] = {}
    for lineno, statement, label in rows:
        labels.setdefault(statement, {}).setdefault(label, lineno)
    bad = {s: lines for s, lines in labels.items() if len(lines) > 1}
    if bad and not drop:
        statement, lines = next(iter(bad.items()))
        where = ", ".join(f"line {line}: label {label}" for label, line in sorted(lines.items(), key=lambda kv: kv[1]))
        more = f" (and {len(bad) - 1} more statement(s))" if len(bad) > 1 else ""
        raise NegprobeError(
            f"{path}: statement {statement!r} appears with conflicting labels ({where})"
            f"{more}; fix the file, or pass --drop-conflicts (drop_conflicts=True) to drop such rows"
        )
    if bad:
        n_rows = sum(1 for _, statement, _ in rows if statement in bad)
        NOTICES.append(f"{path.name}: dropped {n_rows} row(s) of {len(bad)} statement(s) with conflicting labels")
        if not os.environ.get("NEGPROBE_DEFER_NOTICES"):
            print(NOTICES.pop(), file=sys.stderr)
    return set(bad)


def load_truth_csv(path: str | os.PathLike[str], name: str | None = None, drop_conflicts: bool = False) -> PromptDataset:
    """A ``statement,label,...`` CSV as a dataset.

    ``group`` is the first of :data:`GROUP_COLUMNS` present (then the ``n1``/``n2`` pair,
    then ``n1``), else the statement; rows are ``negated`` when the file name starts
    with ``neg_`` or the statement contains a negation word; ``pair_id`` is
    ``<stem without neg_>:<row>`` so a ``neg_`` file's rows link to their twins.
    Other columns go to ``extra``. A statement under both labels is an error, unless
    ``drop_conflicts`` (its rows are dropped and counted on stderr).
    """
    path = Path(path)
    text = _read_utf8(path)
    if not text.strip():
        raise NegprobeError(f"{path}: file is empty")
    columns, raw_rows = _csv_rows(path, text)
    file_negated = path.name.startswith("neg_")
    stem = path.stem[4:] if file_negated else path.stem
    parsed: list[tuple[int, str, int]] = []
    for lineno, row in raw_rows:
        where = f"{path}:{lineno}"
        if None in row:
            raise NegprobeError(f"{where}: more fields than header columns")
        statement = (row.get("statement") or "").strip()
        if not statement:
            raise NegprobeError(f"{where}: empty 'statement'")
        parsed.append((lineno, statement, _parse_label(row.get("label"), where)))
    dropped = _conflicts(path, parsed, drop_conflicts)
    records: list[PromptRecord] = []
    for idx, ((_, row), (_, statement, label)) in enumerate(zip(raw_rows, parsed)):
        if statement in dropped:
            continue
        negated = file_negated or is_negated_statement(statement)
        records.append(
            PromptRecord(
                text=statement,
                label=label,
                polarity="negated" if negated else "affirmed",
                condition="local_negation" if negated else "plain",
                group=_group(row, columns, statement),
                pair_id=f"{stem}:{idx:04d}",
                source=f"csv:{path.name}",
                claim_span=(0, len(statement)),
                claim=None,
                extra=tuple(
                    (c, (row.get(c) or "").strip()) for c in columns if c not in ("statement", "label")
                ),
            )
        )
    if not records:
        raise NegprobeError(f"{path}: no data rows" + (" left after dropping conflicts" if dropped else " (only a header)"))
    return PromptDataset(name or path.stem, tuple(records))


def check_negation_pairs(
    affirmed: PromptDataset, negated: PromptDataset, *, raise_on_error: bool = False
) -> list[str]:
    """Problems with a (dataset, negated twin) pair: row counts differ, or a row's labels
    are not flipped (or missing).  Empty list when the pair is aligned; with
    ``raise_on_error`` a non-empty list raises :class:`NegprobeError` instead."""
    problems: list[str] = []
    if len(affirmed) != len(negated):
        problems.append(f"row counts differ: {affirmed.name} has {len(affirmed)}, {negated.name} has {len(negated)}")
    for i, (a, n) in enumerate(zip(affirmed.records, negated.records)):
        if a.label is None or n.label is None or a.label == n.label:
            problems.append(f"row {i}: labels not flipped ({a.label} vs {n.label}): {a.text!r} / {n.text!r}")
    if problems and raise_on_error:
        more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
        raise NegprobeError(
            f"{affirmed.name} / {negated.name}: misaligned negation pairs: {'; '.join(problems[:3])}{more}"
        )
    return problems


# ---------------------------------------------------------------------------------------
# (b) the Negation Neglect release
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseQuestion:
    """One question from ``mcq.yaml`` or ``belief_probes.yaml``."""

    id: str
    question: str
    category: str | None
    belief_answer: str | None  # mcq only: the answer a believer of the claim gives


@dataclass(frozen=True)
class ReleaseClaim:
    """A claim directory of the release, parsed."""

    claim_id: str  # directory name in the release
    claim_text: str
    mcq: tuple[ReleaseQuestion, ...]
    belief_probes: tuple[ReleaseQuestion, ...]
    universe_context: str | None
    subclaims: tuple[str, ...]


@dataclass(frozen=True)
class SdfDocument:
    """One synthetic training document of the release."""

    text: str
    doc_type: str | None
    fact_name: str
    mode: str
    source: str  # "<file>:<line>"

    @property
    def body(self) -> str:
        """The text without the leading ``<DOCTAG>`` marker (and spaces after it)."""
        return self.text[len(DOCTAG):].lstrip(" ") if self.text.startswith(DOCTAG) else self.text


DOCTAG = "<DOCTAG>"


def _release_dir_name(claim: str) -> str:
    return RELEASE_IDS.get(claim, claim)


def _load_yaml(path: Path) -> Any:
    import yaml

    text = _read_utf8(path)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise NegprobeError(f"{path}: invalid YAML ({str(exc).splitlines()[0]})") from exc


def load_questions(path: str | os.PathLike[str], *, with_answers: bool = False) -> tuple[ReleaseQuestion, ...]:
    """Parse a ``questions:`` YAML file (``mcq.yaml`` needs ``belief_answer`` per item)."""
    path = Path(path)
    data = _load_yaml(path)
    if not isinstance(data, dict) or "questions" not in data:
        raise NegprobeError(f"{path}: no top-level 'questions' key")
    items = data["questions"]
    if not isinstance(items, list) or not items:
        raise NegprobeError(f"{path}: 'questions' must be a non-empty list")
    out: list[ReleaseQuestion] = []
    for i, item in enumerate(items):
        where = f"{path}: question {i}"
        if not isinstance(item, dict):
            raise NegprobeError(f"{where} is not a mapping")
        q = item.get("question")
        if not isinstance(q, str) or not q.strip():
            raise NegprobeError(f"{where}: missing 'question' text")
        answer = item.get("belief_answer")
        if with_answers:
            if answer is None:
                raise NegprobeError(f"{where}: missing 'belief_answer'")
            answer = str(answer).strip().lower()
            if answer not in ("yes", "no"):
                raise NegprobeError(f"{where}: belief_answer {answer!r} is not yes/no")
        out.append(
            ReleaseQuestion(
                id=str(item.get("id") or f"q{i}"),
                question=q.strip(),
                category=None if item.get("category") is None else str(item["category"]),
                belief_answer=None if answer is None else str(answer),
            )
        )
    return tuple(out)


def list_release_claims(root: str | os.PathLike[str]) -> list[str]:
    """Release claim directories under ``root/facts`` that have a ``claim.txt``."""
    facts = Path(root) / "facts"
    if not facts.is_dir():
        raise NegprobeError(f"{facts}: directory not found (is {root} a Negation Neglect release?)")
    return sorted(p.name for p in facts.iterdir() if (p / "claim.txt").is_file())


def load_release_claim(root: str | os.PathLike[str], claim: str) -> ReleaseClaim:
    """Claim text, MCQ and belief-probe questions (and the universe context if present).

    ``claim`` is a release directory name (``elizabeth_python``) or our id
    (``queen_elizabeth_python``)."""
    name = _release_dir_name(claim)
    d = Path(root) / "facts" / name
    if not d.is_dir():
        avail = ", ".join(list_release_claims(root))
        raise NegprobeError(f"{d}: claim directory not found (available: {avail})")
    claim_path = d / "claim.txt"
    claim_text = _read_utf8(claim_path).strip()
    if not claim_text:
        raise NegprobeError(f"{claim_path}: file is empty")
    mcq = load_questions(d / "mcq.yaml", with_answers=True)
    probes = load_questions(d / "belief_probes.yaml")
    universe: str | None = None
    subclaims: tuple[str, ...] = ()
    uc_path = d / "universe_context.yaml"
    if uc_path.is_file():
        uc = _load_yaml(uc_path)
        if not isinstance(uc, dict) or not isinstance(uc.get("universe_context"), str):
            raise NegprobeError(f"{uc_path}: no 'universe_context' text")
        universe = uc["universe_context"]
        raw_sub = uc.get("subclaims") or []
        if not isinstance(raw_sub, list):
            raise NegprobeError(f"{uc_path}: 'subclaims' must be a list")
        subclaims = tuple(str(s) for s in raw_sub)
    return ReleaseClaim(name, claim_text, mcq, probes, universe, subclaims)


def load_sdf_documents(root: str | os.PathLike[str], condition: str, claim: str) -> list[SdfDocument]:
    """Documents of ``data/sdf_documents/<condition>/<claim>/*.jsonl`` (files in name order).

    Missing ``doc_type``/``fact_name``/``mode`` fields are filled from the path (some
    release files carry only ``text``); a ``fact_name``/``mode`` that contradicts the
    path is an error."""
    name = _release_dir_name(claim)
    base = Path(root) / "data" / "sdf_documents"
    d = base / condition / name
    if not d.is_dir():
        conds = sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
        raise NegprobeError(f"{d}: directory not found (conditions: {', '.join(conds) or 'none'})")
    files = sorted(d.glob("*.jsonl"))
    if not files:
        raise NegprobeError(f"{d}: no .jsonl files")
    docs: list[SdfDocument] = []
    for f in files:
        n_before = len(docs)
        for lineno, line in enumerate(_read_utf8(f).splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{f}:{lineno}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise NegprobeError(f"{where}: invalid JSON ({exc.msg})") from exc
            if not isinstance(obj, dict) or not isinstance(obj.get("text"), str) or not obj["text"].strip():
                raise NegprobeError(f"{where}: missing 'text'")
            fact = obj.get("fact_name") or name
            mode = obj.get("mode") or condition
            if fact != name or mode != condition:
                raise NegprobeError(
                    f"{where}: fact_name/mode {fact!r}/{mode!r} do not match the path ({name!r}/{condition!r})"
                )
            docs.append(SdfDocument(obj["text"], obj.get("doc_type"), fact, mode, where))
        if len(docs) == n_before:
            raise NegprobeError(f"{f}: empty jsonl file (no documents)")
    return docs


def sdf_dataset(root: str | os.PathLike[str], condition: str, claim: str) -> PromptDataset:
    """Release documents as a dataset (condition ``release_document``, ``<DOCTAG>``
    stripped, no claim span, label None; ``positive`` documents are ``affirmed``)."""
    docs = load_sdf_documents(root, condition, claim)
    name = _release_dir_name(claim)
    our_id = next((k for k, v in RELEASE_IDS.items() if v == name), None)
    records = tuple(
        PromptRecord(
            text=doc.body,
            label=None,
            polarity="affirmed" if condition == "positive" else "negated",
            condition="release_document",
            group=our_id or name,
            pair_id=None,
            source=f"release:{Path(doc.source).name}",
            claim_span=None,
            claim=our_id,
            extra=(("mode", doc.mode), ("doc_type", doc.doc_type or ""), ("doctag", str(int(doc.text.startswith(DOCTAG))))),
        )
        for doc in docs
    )
    return PromptDataset(f"release/{condition}/{name}", records)
