"""Major volcanic eruptions -> year, for the ``domain_eruptions`` dataset (near claim
``vesuvius_2015``).

Hand-written; only well-documented eruptions with a firmly dated onset.  Volcanoes erupt
repeatedly, so each row names one *specific* eruption by what it did ("the eruption of
Mount Vesuvius that buried Pompeii"): a wrong year then makes a clearly false statement
even for a volcano that also erupted in that year.  Years below 1000 are AD and are
written "AD 79".  Wrong years are other rows' years at least ``MIN_YEAR_GAP`` away, so
eruptions lasting into a second year (Laki 1783-84, Holuhraun 2014-15) stay unambiguous.
"""

from __future__ import annotations

MIN_YEAR_GAP = 10

#: (volcano, the eruption as a noun phrase starting with "the", year of onset)
ERUPTIONS: tuple[tuple[str, str, int], ...] = (
    ("Mount Vesuvius", "the eruption of Mount Vesuvius that buried Pompeii", 79),
    ("Mount Vesuvius", "the most recent eruption of Mount Vesuvius", 1944),
    ("Samalas", "the great eruption of the Samalas volcano on Lombok", 1257),
    ("Huaynaputina",
     "the eruption of Huaynaputina that was the largest in the recorded history of South America",
     1600),
    ("Mount Etna", "the eruption of Mount Etna whose lava flows reached the city of Catania", 1669),
    ("Mount Fuji", "the most recent eruption of Mount Fuji", 1707),
    ("Laki", "the eruption of Laki that killed much of the livestock of Iceland", 1783),
    ("Mount Asama", "the Tenmei eruption of Mount Asama in Japan", 1783),
    ("Mount Tambora", "the eruption of Mount Tambora that caused the Year Without a Summer", 1815),
    ("Krakatoa", "the eruption of Krakatoa that destroyed most of the island", 1883),
    ("Mount Tarawera",
     "the eruption of Mount Tarawera that destroyed the Pink and White Terraces of New Zealand",
     1886),
    ("Mount Pelee",
     "the eruption of Mount Pelee that destroyed the town of Saint-Pierre on Martinique",
     1902),
    ("La Soufriere",
     "the eruption of La Soufriere on Saint Vincent that killed more than 1,500 people",
     1902),
    ("Santa Maria", "the first recorded eruption of the Santa Maria volcano in Guatemala", 1902),
    ("Taal Volcano",
     "the eruption of Taal Volcano in the Philippines that killed more than 1,300 people",
     1911),
    ("Novarupta", "the eruption of Novarupta in Alaska that was the largest of the twentieth century", 1912),
    ("Sakurajima", "the eruption of Sakurajima that joined the island to the Osumi Peninsula", 1914),
    ("Lassen Peak", "the climactic explosive eruption of Lassen Peak in California", 1915),
    ("Mount Kelud", "the eruption of Mount Kelud whose mudflows killed about 5,000 people on Java", 1919),
    ("Paricutin", "the eruption that created the Paricutin volcano in a Mexican cornfield", 1943),
    ("Mount Lamington",
     "the eruption of Mount Lamington in Papua New Guinea that killed about 3,000 people",
     1951),
    ("Mount Agung", "the eruption of Mount Agung on Bali that killed more than 1,000 people", 1963),
    ("Surtsey", "the eruption that created the island of Surtsey off Iceland", 1963),
    ("Eldfell", "the eruption of Eldfell that forced the evacuation of the island of Heimaey", 1973),
    ("Mount St. Helens",
     "the eruption of Mount St. Helens that caused the largest landslide in recorded history",
     1980),
    ("El Chichon", "the eruption of El Chichon in Mexico that killed about 2,000 people", 1982),
    ("Galunggung",
     "the eruption of Galunggung whose ash shut down all four engines of a British Airways jet",
     1982),
    ("Nevado del Ruiz",
     "the eruption of Nevado del Ruiz whose mudflows buried the Colombian town of Armero",
     1985),
    ("Mount Redoubt",
     "the eruption of Mount Redoubt whose ash shut down all four engines of a KLM jet",
     1989),
    ("Mount Pinatubo", "the eruption of Mount Pinatubo that temporarily cooled the global climate", 1991),
    ("Mount Unzen",
     "the eruption of Mount Unzen that killed the volcanologists Katia and Maurice Krafft",
     1991),
    ("Rabaul", "the eruption that destroyed much of the town of Rabaul in Papua New Guinea", 1994),
    ("Soufriere Hills", "the onset of the long eruption of the Soufriere Hills volcano on Montserrat", 1995),
    ("Chaiten",
     "the eruption of Chaiten that forced the evacuation of the Chilean town of the same name",
     2008),
    ("Eyjafjallajokull", "the eruption of Eyjafjallajokull that disrupted air travel across Europe", 2010),
    ("Mount Sinabung", "the eruption of Mount Sinabung that ended about four centuries of dormancy", 2010),
    ("Puyehue-Cordon Caulle",
     "the eruption of Puyehue-Cordon Caulle whose ash disrupted flights in Australia and New Zealand",
     2011),
    ("Mount Ontake", "the eruption of Mount Ontake that killed dozens of hikers in Japan", 2014),
    ("Holuhraun", "the Holuhraun fissure eruption in Iceland", 2014),
    ("Kilauea", "the eruption of Kilauea that destroyed hundreds of homes in the lower Puna district", 2018),
    ("Anak Krakatau", "the eruption and flank collapse of Anak Krakatau that caused a deadly tsunami", 2018),
    ("Whakaari", "the eruption of Whakaari (White Island) that killed tourists visiting the crater", 2019),
    ("Fagradalsfjall",
     "the eruption at Fagradalsfjall that was the first on the Reykjanes Peninsula in about 800 years",
     2021),
    ("Cumbre Vieja", "the eruption of Cumbre Vieja that destroyed thousands of buildings on La Palma", 2021),
    ("Hunga Tonga-Hunga Ha'apai",
     "the eruption of Hunga Tonga-Hunga Ha'apai that sent a pressure wave around the world",
     2022),
    ("Mauna Loa", "the eruption of Mauna Loa that ended its longest recorded period of quiet", 2022),
)
