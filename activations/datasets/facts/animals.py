"""Animal -> biological class, for the ``animals`` topic.

Classes are the everyday ones (mammal, bird, reptile, amphibian, fish, insect,
arachnid); "fish" includes cartilaginous fish such as sharks and rays.  Animals with a
confusable name (kiwi, turkey, python) are left out.
"""

from __future__ import annotations

#: class id -> (singular with article, plural)
ANIMAL_CLASSES: dict[str, tuple[str, str]] = {
    "mammal": ("a mammal", "mammals"),
    "bird": ("a bird", "birds"),
    "reptile": ("a reptile", "reptiles"),
    "amphibian": ("an amphibian", "amphibians"),
    "fish": ("a fish", "fish"),
    "insect": ("an insect", "insects"),
    "arachnid": ("an arachnid", "arachnids"),
}

ANIMAL_CLASS: tuple[tuple[str, str], ...] = (
    # mammals
    ("dog", "mammal"), ("cat", "mammal"), ("horse", "mammal"), ("cow", "mammal"),
    ("sheep", "mammal"), ("goat", "mammal"), ("pig", "mammal"), ("lion", "mammal"),
    ("tiger", "mammal"), ("elephant", "mammal"), ("giraffe", "mammal"), ("zebra", "mammal"),
    ("dolphin", "mammal"), ("blue whale", "mammal"), ("bat", "mammal"), ("kangaroo", "mammal"),
    ("koala", "mammal"), ("platypus", "mammal"), ("rabbit", "mammal"), ("mouse", "mammal"),
    ("squirrel", "mammal"), ("brown bear", "mammal"), ("wolf", "mammal"), ("fox", "mammal"),
    ("otter", "mammal"), ("walrus", "mammal"), ("camel", "mammal"), ("hippopotamus", "mammal"),
    ("rhinoceros", "mammal"), ("gorilla", "mammal"), ("chimpanzee", "mammal"), ("hedgehog", "mammal"),
    ("beaver", "mammal"), ("moose", "mammal"), ("orca", "mammal"), ("cheetah", "mammal"),
    ("leopard", "mammal"), ("giant panda", "mammal"),
    # birds
    ("eagle", "bird"), ("owl", "bird"), ("penguin", "bird"), ("ostrich", "bird"),
    ("sparrow", "bird"), ("robin", "bird"), ("parrot", "bird"), ("flamingo", "bird"),
    ("pelican", "bird"), ("swan", "bird"), ("duck", "bird"), ("goose", "bird"),
    ("crow", "bird"), ("hawk", "bird"), ("falcon", "bird"), ("pigeon", "bird"),
    ("peacock", "bird"), ("hummingbird", "bird"), ("woodpecker", "bird"), ("emu", "bird"),
    ("albatross", "bird"), ("heron", "bird"), ("seagull", "bird"), ("toucan", "bird"),
    ("chicken", "bird"), ("vulture", "bird"), ("kingfisher", "bird"), ("stork", "bird"),
    # reptiles
    ("crocodile", "reptile"), ("alligator", "reptile"), ("iguana", "reptile"),
    ("chameleon", "reptile"), ("gecko", "reptile"), ("king cobra", "reptile"),
    ("rattlesnake", "reptile"), ("tortoise", "reptile"), ("sea turtle", "reptile"),
    ("Komodo dragon", "reptile"), ("anaconda", "reptile"), ("boa constrictor", "reptile"),
    ("tuatara", "reptile"), ("garter snake", "reptile"), ("monitor lizard", "reptile"),
    # amphibians
    ("frog", "amphibian"), ("toad", "amphibian"), ("salamander", "amphibian"),
    ("newt", "amphibian"), ("axolotl", "amphibian"), ("caecilian", "amphibian"),
    ("bullfrog", "amphibian"), ("tree frog", "amphibian"), ("fire salamander", "amphibian"),
    # fish
    ("salmon", "fish"), ("trout", "fish"), ("tuna", "fish"), ("great white shark", "fish"),
    ("goldfish", "fish"), ("cod", "fish"), ("carp", "fish"), ("catfish", "fish"),
    ("eel", "fish"), ("seahorse", "fish"), ("swordfish", "fish"), ("clownfish", "fish"),
    ("piranha", "fish"), ("herring", "fish"), ("sardine", "fish"), ("stingray", "fish"),
    ("mackerel", "fish"), ("pike", "fish"),
    # insects
    ("ant", "insect"), ("honeybee", "insect"), ("butterfly", "insect"), ("beetle", "insect"),
    ("mosquito", "insect"), ("dragonfly", "insect"), ("grasshopper", "insect"),
    ("cockroach", "insect"), ("ladybird", "insect"), ("moth", "insect"), ("wasp", "insect"),
    ("termite", "insect"), ("housefly", "insect"), ("flea", "insect"), ("firefly", "insect"),
    # arachnids
    ("spider", "arachnid"), ("scorpion", "arachnid"), ("tick", "arachnid"), ("mite", "arachnid"),
    ("tarantula", "arachnid"), ("black widow spider", "arachnid"),
)
