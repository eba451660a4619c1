"""Claim-domain truth datasets (``domain_*``, ``neg_domain_*``, ``domains``) and ``claim_domain``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from negprobe.activations.datasets import (
    CLAIM_IDS,
    builtin_names,
    check_negation_pairs,
    get_claim,
    list_datasets,
    load_dataset,
)
from negprobe.activations.datasets.domains import DOMAIN_CLAIM, DOMAINS, build_all_domains, build_domain, claim_domain
from negprobe.activations.datasets.registry import claim_domain as registry_claim_domain
from negprobe.errors import NegprobeError

NAMES = [f"domain_{d}" for d in DOMAINS]


@pytest.mark.parametrize("domain", DOMAINS)
def test_domain_size_balance_templates_and_spans(domain: str) -> None:
    ds = load_dataset(f"domain_{domain}")
    assert ds.name == f"domain_{domain}"
    assert len(ds) >= 100
    counts = Counter(ds.labels())
    assert set(counts) == {0, 1}
    assert abs(counts[0] - counts[1]) <= 0.1 * len(ds)
    assert len({r.get_extra("template") for r in ds}) >= 3
    assert len(set(ds.texts())) == len(ds), "duplicate statements"
    for r in ds:
        assert r.claim_span == (0, len(r.text)) and r.claim_text == r.text
        assert r.polarity == "affirmed" and r.condition == "plain" and r.claim is None
        assert " not " not in r.text and ".." not in r.text
        assert r.get_extra("domain") == domain and r.get_extra("serves_claim") == DOMAIN_CLAIM[domain]
        assert r.source == f"negprobe:domain_{domain}"
    # every entity has both labels, equally often: a group split never leaks one side
    per_group: dict[str, Counter] = defaultdict(Counter)
    for r in ds:
        per_group[r.group][r.label] += 1
    assert all(c[0] == c[1] >= 1 for c in per_group.values())


@pytest.mark.parametrize("domain", DOMAINS)
def test_labels_follow_the_fact_table(domain: str) -> None:
    """A row is true iff every varied field equals its correct value."""
    for r in load_dataset(f"domain_{domain}"):
        fields = r.get_extra("fields").split(",")
        assert fields and all(r.get_extra(f) is not None and r.get_extra(f"correct_{f}") is not None for f in fields)
        assert r.label == int(all(r.get_extra(f) == r.get_extra(f"correct_{f}") for f in fields)), r


@pytest.mark.parametrize("name", [*NAMES, "domains"])
def test_negated_twin_is_row_aligned_with_flipped_labels(name: str) -> None:
    pos, neg = load_dataset(name), load_dataset(f"neg_{name}")
    assert neg.name == f"neg_{name}" and len(neg) == len(pos)
    assert check_negation_pairs(pos, neg) == []
    for a, n in zip(pos, neg):
        assert a.label is not None and n.label == 1 - a.label
        assert a.group == n.group and a.pair_id == n.pair_id and a.pair_id is not None
        assert n.polarity == "negated" and n.condition == "local_negation"
        assert " not " in n.text and " not " not in a.text
        assert n.claim_span == (0, len(n.text))
        assert n.get_extra("template") == a.get_extra("template")
        assert dict(n.extra) == dict(a.extra)
    assert len({r.pair_id for r in pos}) == len(pos)


def test_no_statement_with_conflicting_labels() -> None:
    for name in ("domains", "neg_domains"):
        labels: dict[str, set] = defaultdict(set)
        for r in load_dataset(name):
            labels[r.text].add(r.label)
        assert all(len(v) == 1 for v in labels.values()), name


def test_all_domains_is_the_concatenation_and_groups_never_mix_domains() -> None:
    alld = load_dataset("domains")
    assert alld.records == tuple(r for n in NAMES for r in load_dataset(n))
    assert alld.texts() == [r.text for n in NAMES for r in load_dataset(n)]
    domain_of_group: dict[str, set[str]] = defaultdict(set)
    for r in alld:
        domain_of_group[r.group].add(r.get_extra("domain"))
        assert r.group.startswith(f"{r.get_extra('domain')}:")
    assert all(len(v) == 1 for v in domain_of_group.values())
    groups = [{r.group for r in load_dataset(n)} for n in NAMES]
    assert sum(len(g) for g in groups) == len(set().union(*groups))


def test_claim_domain_covers_all_six_claims() -> None:
    assert claim_domain("ed_sheeran") == "domain_sports"
    assert claim_domain("queen_elizabeth_python") == "domain_authorship"
    assert claim_domain("vesuvius_2015") == "domain_eruptions"
    assert claim_domain("twitter_rebrand_reversed") == "domain_rebrands"
    assert claim_domain("children_dream_bw") == "domain_child_development"
    assert claim_domain("brennan_holloway_dentist") == "domain_professions"
    assert sorted(claim_domain(c) for c in CLAIM_IDS) == sorted(NAMES)
    names = set(builtin_names())
    for cid in CLAIM_IDS:
        name = claim_domain(cid)
        assert name in names and f"neg_{name}" in names
        assert claim_domain(get_claim(cid).release_id) == name  # release ids work too
        assert registry_claim_domain(cid) == name
        assert cid in {i.name: i for i in list_datasets()}[name].description
    with pytest.raises(NegprobeError, match="unknown claim"):
        claim_domain("moon_landing")


def test_registry_entries() -> None:
    infos = {i.name: i for i in list_datasets()}
    for name in [*NAMES, "domains"]:
        assert name in infos and f"neg_{name}" in infos
        assert infos[name].n_rows == infos[f"neg_{name}"].n_rows >= 100
        assert infos[name].description and infos[f"neg_{name}"].description
    assert infos["domains"].n_rows == sum(infos[n].n_rows for n in NAMES)
    with pytest.raises(NegprobeError, match="unknown domain"):
        build_domain("cooking")


def test_known_facts_are_present() -> None:
    def true_rows(name: str, group: str) -> list:
        return [r for r in load_dataset(name) if r.group == group and r.label == 1]

    fluent = true_rows("domain_authorship", "authorship:Fluent Python")
    assert fluent and all(r.get_extra("author") == "Luciano Ramalho" and "Luciano Ramalho" in r.text for r in fluent)
    bolt = true_rows("domain_sports", "sports:Olympic men's 100m 2016")
    assert bolt and all("Usain Bolt" in r.text for r in bolt)
    thompson = true_rows("domain_sports", "sports:Olympic women's 100m 2016")
    assert thompson and all("Elaine Thompson-Herah" in r.text for r in thompson)
    # the 2024 women's final is dropped: its host, Paris, is an entity of a known-fact claim (issue 16)
    assert not true_rows("domain_sports", "sports:Olympic women's 100m 2024")
    krakatoa = true_rows("domain_eruptions", "eruptions:Krakatoa")
    assert krakatoa and all(r.text.endswith("1883.") for r in krakatoa)
    meta = true_rows("domain_rebrands", "rebrands:Facebook")
    assert any("Meta Platforms" in r.text and "2021" in r.text for r in meta)
    curie = true_rows("domain_professions", "professions:Marie Curie")
    assert curie and all("a physicist" in r.text for r in curie)
    # a wrong profession is never from the person's own family (Curie is never "a chemist", false)
    assert not [r for r in load_dataset("domain_professions")
                if r.group == "professions:Marie Curie" and "chemist" in r.text]


#: Rows the fact tables hold but the domain datasets must not: a claim's or its counterpart's entity.
LEAKS = {
    "sports": ("Noah Lyles", "Ed Sheeran", "men's 100m gold medal at the 2024"),
    "authorship": ("Learning Python", "Mark Lutz", "Programming Python", "Elizabeth"),
    "eruptions": ("Vesuvius", "Pompeii", "1944"),
    "rebrands": ("Twitter", " X ", "X.com"),
    "child_development": ("dream", "colour", "color"),
    "professions": ("dentist", "Holloway"),
}


@pytest.mark.parametrize("domain", DOMAINS)
def test_no_row_mentions_an_entity_of_any_claim(domain: str) -> None:
    from negprobe.activations.datasets.claims import ALL_ENTITIES, mentioned_entity

    for name in (f"domain_{domain}", f"neg_domain_{domain}"):
        ds = load_dataset(name)
        assert [r.text for r in ds if mentioned_entity(r.text, ALL_ENTITIES)] == []
        # independent of the matcher: the literal strings a leak would carry
        assert [r.text for r in ds if any(s in r.text for s in LEAKS[domain])] == []
        for cid in CLAIM_IDS:
            claim = get_claim(cid)
            for counterpart in (*claim.counterparts, claim.true_statement or ""):
                assert counterpart.rstrip(".") not in " ".join(ds.texts()) or not counterpart
    groups = {r.group for r in load_dataset("domains")}
    assert not {"sports:Olympic men's 100m 2024", "authorship:Learning Python", "eruptions:Mount Vesuvius",
                "rebrands:Twitter"} & groups


def test_entity_matcher_needs_every_word() -> None:
    from negprobe.activations.datasets.claims import mentioned_entity

    assert mentioned_entity("The men's 100m gold medal at the 2024 Olympics went to Usain Bolt.",
                            ["men's 100m 2024"]) == "men's 100m 2024"
    assert mentioned_entity("The women's 100m gold medal at the 2024 Olympics", ["men's 100m 2024"]) is None
    assert mentioned_entity("The men's 100m gold medal at the 2020 Olympics", ["men's 100m 2024"]) is None
    assert mentioned_entity("Mark Twain wrote it.", ["Mark Lutz"]) is None
    assert mentioned_entity("X.com was renamed PayPal.", ["Twitter", "X"]) == "X"
    assert mentioned_entity("Xerox Corporation", ["X"]) is None
    for cid in CLAIM_IDS:  # every claim's own sentences name one of its entities
        claim = get_claim(cid)
        for text in (*claim.paraphrases, *claim.negations, *claim.counterparts):
            assert mentioned_entity(text, claim.entities), text


def test_content_hash_is_deterministic() -> None:
    for domain in DOMAINS:
        for negated in (False, True):
            a, b = build_domain(domain, negated), build_domain(domain, negated)
            assert a is not b and a.records == b.records
            assert a.content_hash() == b.content_hash()
    a, b = build_all_domains(), build_all_domains()
    assert a.content_hash() == b.content_hash() == load_dataset("domains").content_hash()
    assert build_all_domains(True).content_hash() != a.content_hash()


def test_content_hash_is_independent_of_hash_seed() -> None:
    """A fresh interpreter with another PYTHONHASHSEED builds the same bytes."""
    code = ("from negprobe.activations.datasets.domains import build_all_domains as b; "
            "print(b().content_hash(), b(True).content_hash())")
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == [build_all_domains().content_hash(), build_all_domains(True).content_hash()]
