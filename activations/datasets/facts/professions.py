"""Famous people -> profession, for the ``domain_professions`` dataset (near claim
``brennan_holloway_dentist``).

Hand-written; only people who have died and are known for one profession.  A wrong
profession is drawn from another *family* (science, arts, sport, exploration, or the
wrong-only "dentist"), so a polymath's second field is never offered as false: Marie
Curie is a physicist and a chemist, both in the science family.  ``not_wrong`` lists
professions a person dabbled in (Muhammad Ali played himself in a film and recited
verse; Galileo taught drawing) that are never offered as their wrong answer either.
"""

from __future__ import annotations

#: profession -> family
PROFESSION_FAMILY: dict[str, str] = {
    "physicist": "science", "chemist": "science", "mathematician": "science",
    "astronomer": "science", "naturalist": "science", "botanist": "science",
    "painter": "arts", "sculptor": "arts", "composer": "arts", "novelist": "arts", "poet": "arts",
    "playwright": "arts", "architect": "arts", "actor": "arts", "film director": "arts",
    "boxer": "sport", "footballer": "sport", "tennis player": "sport", "baseball player": "sport",
    "basketball player": "sport", "chess player": "sport", "sprinter": "sport", "racing driver": "sport",
    "astronaut": "exploration", "cosmonaut": "exploration", "aviator": "exploration", "explorer": "exploration",
    "dentist": "medicine",
}

#: (person, profession, professions never to offer as this person's wrong answer)
PEOPLE: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # science
    ("Albert Einstein", "physicist", ()),
    ("Isaac Newton", "physicist", ()),
    ("Enrico Fermi", "physicist", ()),
    ("Stephen Hawking", "physicist", ("actor",)),
    ("Paul Dirac", "physicist", ()),
    ("Werner Heisenberg", "physicist", ()),
    ("Marie Curie", "physicist", ()),
    ("Michael Faraday", "physicist", ()),
    ("James Clerk Maxwell", "physicist", ("poet",)),
    ("Dmitri Mendeleev", "chemist", ()),
    ("Antoine Lavoisier", "chemist", ()),
    ("Linus Pauling", "chemist", ()),
    ("Dorothy Hodgkin", "chemist", ()),
    ("Rosalind Franklin", "chemist", ()),
    ("Louis Pasteur", "chemist", ()),
    ("Charles Darwin", "naturalist", ("explorer",)),
    ("Carl Linnaeus", "botanist", ("explorer",)),
    ("Carl Friedrich Gauss", "mathematician", ()),
    ("Leonhard Euler", "mathematician", ()),
    ("Alan Turing", "mathematician", ("sprinter",)),
    ("Srinivasa Ramanujan", "mathematician", ()),
    ("Emmy Noether", "mathematician", ()),
    ("Ada Lovelace", "mathematician", ("poet",)),
    ("Johannes Kepler", "astronomer", ("novelist",)),
    ("Nicolaus Copernicus", "astronomer", ()),
    ("Galileo Galilei", "astronomer", ("painter",)),
    ("Tycho Brahe", "astronomer", ()),
    # arts
    ("Vincent van Gogh", "painter", ()),
    ("Claude Monet", "painter", ()),
    ("Rembrandt", "painter", ()),
    ("Frida Kahlo", "painter", ()),
    ("Johannes Vermeer", "painter", ()),
    ("Auguste Rodin", "sculptor", ()),
    ("Wolfgang Amadeus Mozart", "composer", ()),
    ("Ludwig van Beethoven", "composer", ()),
    ("Johann Sebastian Bach", "composer", ()),
    ("Frederic Chopin", "composer", ()),
    ("Pyotr Ilyich Tchaikovsky", "composer", ()),
    ("Giuseppe Verdi", "composer", ()),
    ("Franz Schubert", "composer", ()),
    ("Johannes Brahms", "composer", ()),
    ("Jane Austen", "novelist", ()),
    ("Charles Dickens", "novelist", ()),
    ("Leo Tolstoy", "novelist", ()),
    ("Virginia Woolf", "novelist", ()),
    ("Herman Melville", "novelist", ("explorer",)),
    ("Emily Dickinson", "poet", ()),
    ("John Keats", "poet", ()),
    ("William Wordsworth", "poet", ()),
    ("Walt Whitman", "poet", ()),
    ("Henrik Ibsen", "playwright", ()),
    ("Anton Chekhov", "playwright", ()),
    ("Arthur Miller", "playwright", ()),
    ("Frank Lloyd Wright", "architect", ()),
    ("Antoni Gaudi", "architect", ()),
    ("Zaha Hadid", "architect", ("mathematician",)),
    ("Charlie Chaplin", "actor", ()),
    ("Marilyn Monroe", "actor", ()),
    ("Audrey Hepburn", "actor", ()),
    ("Humphrey Bogart", "actor", ()),
    ("James Dean", "actor", ("racing driver",)),
    ("Alfred Hitchcock", "film director", ()),
    ("Federico Fellini", "film director", ()),
    # sport
    ("Muhammad Ali", "boxer", ("actor", "poet")),
    ("Joe Louis", "boxer", ("actor",)),
    ("Rocky Marciano", "boxer", ("actor",)),
    ("Jesse Owens", "sprinter", ()),
    ("Diego Maradona", "footballer", ()),
    ("Johan Cruyff", "footballer", ()),
    ("Arthur Ashe", "tennis player", ()),
    ("Babe Ruth", "baseball player", ("actor",)),
    ("Jackie Robinson", "baseball player", ("actor",)),
    ("Wilt Chamberlain", "basketball player", ("actor",)),
    ("Bobby Fischer", "chess player", ()),
    ("Ayrton Senna", "racing driver", ()),
    # exploration
    ("Neil Armstrong", "astronaut", ()),
    ("John Glenn", "astronaut", ()),
    ("Yuri Gagarin", "cosmonaut", ()),
    ("Amelia Earhart", "aviator", ("poet",)),
    ("Charles Lindbergh", "aviator", ()),
    ("Christopher Columbus", "explorer", ()),
    ("Ferdinand Magellan", "explorer", ()),
    ("Roald Amundsen", "explorer", ()),
    ("Ernest Shackleton", "explorer", ("poet",)),
)
