"""Fact tables written for negprobe (no third-party data copied).

Each module holds plain Python literals: ``cities`` (city -> country), ``elements``
(element -> symbol), ``animals`` (animal -> biological class) and ``claims`` (our own
paraphrases of the six fabricated claims of Mayne et al. 2026).
"""
