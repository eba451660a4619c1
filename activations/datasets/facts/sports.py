"""Sports winners, for the ``domain_sports`` dataset (near claim ``ed_sheeran``).

Hand-written from well-known results; only editions with one undisputed winner (no
ties, no medals stripped or reallocated: the women's 100m of 2000 is left out).
Olympic editions are named by their official year (Tokyo 2020 was held in 2021).
``*_EXTRA`` are plausible athletes/teams who never won that event, used only as wrong
answers.  Germany and West Germany are never swapped for one another.
"""

from __future__ import annotations

#: Summer Olympics year -> host city.
OLYMPIC_HOSTS: dict[int, str] = {
    1960: "Rome", 1964: "Tokyo", 1968: "Mexico City", 1972: "Munich", 1976: "Montreal",
    1980: "Moscow", 1984: "Los Angeles", 1988: "Seoul", 1992: "Barcelona", 1996: "Atlanta",
    2000: "Sydney", 2004: "Athens", 2008: "Beijing", 2012: "London", 2016: "Rio de Janeiro",
    2020: "Tokyo", 2024: "Paris",
}

#: Olympic men's 100m gold medallists (1988: awarded to Carl Lewis after Ben Johnson's disqualification).
OLYMPIC_100M_MEN: tuple[tuple[int, str], ...] = (
    (1960, "Armin Hary"), (1964, "Bob Hayes"), (1968, "Jim Hines"), (1972, "Valeriy Borzov"),
    (1976, "Hasely Crawford"), (1980, "Allan Wells"), (1984, "Carl Lewis"), (1988, "Carl Lewis"),
    (1992, "Linford Christie"), (1996, "Donovan Bailey"), (2000, "Maurice Greene"),
    (2004, "Justin Gatlin"), (2008, "Usain Bolt"), (2012, "Usain Bolt"), (2016, "Usain Bolt"),
    (2020, "Marcell Jacobs"), (2024, "Noah Lyles"),
)
OLYMPIC_100M_MEN_EXTRA: tuple[str, ...] = ("Asafa Powell", "Yohan Blake", "Tyson Gay")

#: Olympic women's 100m gold medallists (2000 left out: the result was annulled).
OLYMPIC_100M_WOMEN: tuple[tuple[int, str], ...] = (
    (1984, "Evelyn Ashford"), (1988, "Florence Griffith Joyner"), (1992, "Gail Devers"),
    (1996, "Gail Devers"), (2004, "Yuliya Nesterenko"), (2008, "Shelly-Ann Fraser-Pryce"),
    (2012, "Shelly-Ann Fraser-Pryce"), (2016, "Elaine Thompson-Herah"),
    (2020, "Elaine Thompson-Herah"), (2024, "Julien Alfred"),
)
OLYMPIC_100M_WOMEN_EXTRA: tuple[str, ...] = ("Merlene Ottey", "Veronica Campbell-Brown", "Sha'Carri Richardson")

#: FIFA (men's) World Cup winners.
WORLD_CUP_MEN: tuple[tuple[int, str], ...] = (
    (1930, "Uruguay"), (1934, "Italy"), (1938, "Italy"), (1950, "Uruguay"), (1954, "West Germany"),
    (1958, "Brazil"), (1962, "Brazil"), (1966, "England"), (1970, "Brazil"), (1974, "West Germany"),
    (1978, "Argentina"), (1982, "Italy"), (1986, "Argentina"), (1990, "West Germany"),
    (1994, "Brazil"), (1998, "France"), (2002, "Brazil"), (2006, "Italy"), (2010, "Spain"),
    (2014, "Germany"), (2018, "France"), (2022, "Argentina"),
)
WORLD_CUP_MEN_EXTRA: tuple[str, ...] = ("the Netherlands", "Hungary", "Croatia", "Portugal", "Sweden")

#: FIFA Women's World Cup winners.
WORLD_CUP_WOMEN: tuple[tuple[int, str], ...] = (
    (1991, "the United States"), (1995, "Norway"), (1999, "the United States"), (2003, "Germany"),
    (2007, "Germany"), (2011, "Japan"), (2015, "the United States"), (2019, "the United States"),
    (2023, "Spain"),
)
WORLD_CUP_WOMEN_EXTRA: tuple[str, ...] = ("Brazil", "Sweden", "China", "England", "the Netherlands")

#: Wimbledon gentlemen's singles champions (2020: not held).
WIMBLEDON_MEN: tuple[tuple[int, str], ...] = (
    (1980, "Bjorn Borg"), (1981, "John McEnroe"), (1982, "Jimmy Connors"), (1983, "John McEnroe"),
    (1984, "John McEnroe"), (1985, "Boris Becker"), (1986, "Boris Becker"), (1987, "Pat Cash"),
    (1988, "Stefan Edberg"), (1989, "Boris Becker"), (1990, "Stefan Edberg"), (1991, "Michael Stich"),
    (1992, "Andre Agassi"), (1993, "Pete Sampras"), (1994, "Pete Sampras"), (1995, "Pete Sampras"),
    (1996, "Richard Krajicek"), (1997, "Pete Sampras"), (1998, "Pete Sampras"), (1999, "Pete Sampras"),
    (2000, "Pete Sampras"), (2001, "Goran Ivanisevic"), (2002, "Lleyton Hewitt"),
    (2003, "Roger Federer"), (2004, "Roger Federer"), (2005, "Roger Federer"), (2006, "Roger Federer"),
    (2007, "Roger Federer"), (2008, "Rafael Nadal"), (2009, "Roger Federer"), (2010, "Rafael Nadal"),
    (2011, "Novak Djokovic"), (2012, "Roger Federer"), (2013, "Andy Murray"), (2014, "Novak Djokovic"),
    (2015, "Novak Djokovic"), (2016, "Andy Murray"), (2017, "Roger Federer"), (2018, "Novak Djokovic"),
    (2019, "Novak Djokovic"), (2021, "Novak Djokovic"), (2022, "Novak Djokovic"),
    (2023, "Carlos Alcaraz"), (2024, "Carlos Alcaraz"),
)
WIMBLEDON_MEN_EXTRA: tuple[str, ...] = ("Ivan Lendl", "Andy Roddick")

#: Names that denote the same winner and must never be used as each other's wrong answer.
SAME_WINNER: tuple[frozenset[str], ...] = (frozenset({"Germany", "West Germany"}),)
