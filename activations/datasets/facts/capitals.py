"""Country -> capital city, for the ``domain_capitals`` dataset (serves the capital known-fact claims).

Hand-written; ASCII names; only countries with one undisputed capital (no Bolivia, South Africa,
Netherlands). Countries that need an article carry it ("the Philippines").
"""

from __future__ import annotations

COUNTRY_CAPITAL: tuple[tuple[str, str], ...] = (
    # Europe
    ("France", "Paris"), ("Germany", "Berlin"), ("Italy", "Rome"), ("Spain", "Madrid"),
    ("Portugal", "Lisbon"), ("Russia", "Moscow"), ("England", "London"), ("Greece", "Athens"),
    ("Sweden", "Stockholm"), ("Norway", "Oslo"), ("Denmark", "Copenhagen"), ("Finland", "Helsinki"),
    ("Poland", "Warsaw"), ("Austria", "Vienna"), ("Hungary", "Budapest"), ("Ireland", "Dublin"),
    ("Belgium", "Brussels"), ("the Czech Republic", "Prague"), ("Romania", "Bucharest"), ("Bulgaria", "Sofia"),
    ("Ukraine", "Kyiv"), ("Serbia", "Belgrade"), ("Croatia", "Zagreb"), ("Iceland", "Reykjavik"),
    ("Scotland", "Edinburgh"), ("Wales", "Cardiff"), ("Latvia", "Riga"), ("Estonia", "Tallinn"),
    ("Lithuania", "Vilnius"), ("Slovakia", "Bratislava"), ("Turkey", "Ankara"),
    # Asia
    ("Japan", "Tokyo"), ("China", "Beijing"), ("South Korea", "Seoul"), ("Thailand", "Bangkok"),
    ("Vietnam", "Hanoi"), ("Indonesia", "Jakarta"), ("the Philippines", "Manila"), ("Malaysia", "Kuala Lumpur"),
    ("Iran", "Tehran"), ("Iraq", "Baghdad"), ("Saudi Arabia", "Riyadh"), ("Afghanistan", "Kabul"),
    ("Pakistan", "Islamabad"), ("Bangladesh", "Dhaka"), ("Nepal", "Kathmandu"), ("Mongolia", "Ulaanbaatar"),
    ("Syria", "Damascus"), ("Lebanon", "Beirut"), ("Jordan", "Amman"), ("Qatar", "Doha"),
    # Africa
    ("Egypt", "Cairo"), ("Kenya", "Nairobi"), ("Ethiopia", "Addis Ababa"), ("Nigeria", "Abuja"),
    ("Ghana", "Accra"), ("Morocco", "Rabat"), ("Algeria", "Algiers"), ("Tunisia", "Tunis"),
    ("Senegal", "Dakar"), ("Uganda", "Kampala"), ("Zimbabwe", "Harare"), ("Sudan", "Khartoum"),
    # Americas and Oceania
    ("Canada", "Ottawa"), ("Mexico", "Mexico City"), ("Cuba", "Havana"), ("Peru", "Lima"),
    ("Colombia", "Bogota"), ("Chile", "Santiago"), ("Argentina", "Buenos Aires"), ("Venezuela", "Caracas"),
    ("Brazil", "Brasilia"), ("Uruguay", "Montevideo"), ("Ecuador", "Quito"), ("Australia", "Canberra"),
    ("New Zealand", "Wellington"),
)
