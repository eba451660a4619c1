"""Developmental milestones -> typical age, for the ``domain_child_development`` dataset
(near claim ``children_dream_bw``).

Hand-written, stated conservatively: ages are the usual "around" ages or ranges given
by paediatric guidance (e.g. CDC milestone checklists, NHS pages), not norms for any one
child.  Each milestone carries two *clearly* wrong ages (far too early or far too late),
never a borderline one.  Nothing about dreaming is included: the research on when
children dream in colour is too thin to state as fact.
"""

from __future__ import annotations

#: (who, milestone as a verb phrase, typical age, (clearly wrong age, clearly wrong age))
MILESTONES: tuple[tuple[str, str, str, tuple[str, str]], ...] = (
    ("children", "begin to smile socially", "2 months", ("2 years", "5 years")),
    ("children", "begin cooing", "2 months", ("3 years", "6 years")),
    ("children", "begin to follow moving objects with their eyes", "2 months", ("2 years", "6 years")),
    ("children", "begin to hold their head steady without support", "4 months", ("3 years", "7 years")),
    ("children", "begin to laugh", "3 to 6 months", ("3 years", "6 years")),
    ("children", "begin to roll over", "4 to 6 months", ("2 years", "5 years")),
    ("children", "begin to reach for and grasp toys", "4 to 6 months", ("2 weeks", "6 years")),
    ("children", "lose the Moro (startle) reflex", "4 to 6 months", ("5 years", "12 years")),
    ("children", "double their birth weight", "4 to 6 months", ("2 weeks", "3 years")),
    ("children", "develop good colour vision", "5 months", ("3 years", "7 years")),
    ("children", "get their first tooth", "6 months", ("3 years", "8 years")),
    ("children", "begin to sit without support", "6 to 9 months", ("1 month", "3 years")),
    ("children", "begin to respond to their own name", "6 to 9 months", ("1 week", "5 years")),
    ("children", "begin to pass objects from one hand to the other", "6 to 9 months", ("2 weeks", "6 years")),
    ("children", "begin to crawl", "6 to 10 months", ("1 month", "4 years")),
    ("children", "begin babbling with repeated syllables", "6 to 10 months", ("1 week", "5 years")),
    ("children", "begin to show wariness of strangers", "6 to 12 months", ("1 week", "8 years")),
    ("children", "pull themselves up to stand", "8 to 12 months", ("2 months", "5 years")),
    ("children", "develop a pincer grasp", "9 to 12 months", ("1 month", "5 years")),
    ("children", "begin to wave goodbye", "9 to 12 months", ("1 month", "6 years")),
    ("children", "say their first words", "12 months", ("1 month", "6 years")),
    ("children", "triple their birth weight", "12 months", ("1 month", "6 years")),
    ("children", "begin to walk on their own", "9 to 18 months", ("1 month", "5 years")),
    ("children", "begin to run", "18 months to 2 years", ("2 months", "7 years")),
    ("children", "recognise themselves in a mirror", "18 to 24 months", ("1 month", "7 years")),
    ("children", "begin combining two words into short phrases", "18 to 24 months", ("2 months", "8 years")),
    ("children", "complete their set of 20 baby teeth", "2 to 3 years", ("6 months", "10 years")),
    ("children", "begin to jump with both feet off the ground", "2 to 3 years", ("3 months", "10 years")),
    ("children", "learn to pedal a tricycle", "3 years", ("6 months", "12 years")),
    ("children", "learn to copy a drawn circle", "3 years", ("6 months", "12 years")),
    ("children", "pass standard false-belief tasks", "4 years", ("6 months", "12 years")),
    ("children", "learn to hop on one foot", "4 to 5 years", ("9 months", "13 years")),
    ("children", "lose their first baby tooth", "6 years", ("12 months", "14 years")),
    ("children", "get their first permanent molars", "6 years", ("12 months", "16 years")),
    ("girls", "begin puberty", "8 to 13 years", ("2 years", "25 years")),
    ("boys", "begin puberty", "9 to 14 years", ("3 years", "25 years")),
    ("girls", "have their first period", "12 years", ("5 years", "20 years")),
)
