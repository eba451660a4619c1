"""Company renames -> (new name, year), for the ``domain_rebrands`` dataset (near claim
``twitter_rebrand_reversed``).

Hand-written; only renames of the company (or its main brand, for Twitter -> X) with a
firmly dated year.  Left out on purpose: reorganisations that are not renames (Google
under Alphabet, 2015), renames whose year is commonly given two ways (Blue Ribbon Sports
-> Nike: brand 1971, company 1978; Dunkin' Donuts -> Dunkin': announced 2018, effective
2019) and renames later undone.  ``company`` is the entity (the ``group``), so the two
Facebook renames and the two Time Warner renames share a group.  Wrong years are at
least ``MIN_YEAR_GAP`` years off.
"""

from __future__ import annotations

MIN_YEAR_GAP = 5

#: (company, old name, new name, year)
REBRANDS: tuple[tuple[str, str, str, int], ...] = (
    ("Facebook", "Facebook Inc.", "Meta Platforms", 2021),
    ("Facebook", "TheFacebook", "Facebook", 2005),
    ("Twitter", "Twitter", "X", 2023),
    ("Accenture", "Andersen Consulting", "Accenture", 2001),
    ("Altria", "Philip Morris Companies", "Altria Group", 2003),
    ("PepsiCo", "Brad's Drink", "Pepsi-Cola", 1898),
    ("Best Buy", "Sound of Music", "Best Buy", 1983),
    ("Sony", "Tokyo Tsushin Kogyo", "Sony", 1958),
    ("BlackBerry", "Research In Motion", "BlackBerry", 2013),
    ("Apple", "Apple Computer, Inc.", "Apple Inc.", 2007),
    ("KFC", "Kentucky Fried Chicken", "KFC", 1991),
    ("Panasonic", "Matsushita Electric Industrial", "Panasonic Corporation", 2008),
    ("LG", "Lucky-Goldstar", "LG", 1995),
    ("Exxon", "Standard Oil Company of New Jersey", "Exxon", 1972),
    ("IBM", "Computing-Tabulating-Recording Company", "International Business Machines", 1924),
    ("Xerox", "Haloid Xerox", "Xerox Corporation", 1961),
    ("AOL", "Quantum Computer Services", "America Online", 1991),
    ("Toshiba", "Tokyo Shibaura Electric", "Toshiba", 1978),
    ("Time Warner", "AOL Time Warner", "Time Warner", 2003),
    ("Time Warner", "Time Warner", "WarnerMedia", 2018),
    ("Snap", "Snapchat Inc.", "Snap Inc.", 2016),
    ("Block", "Square", "Block", 2021),
    ("Mercedes-Benz Group", "Daimler", "Mercedes-Benz Group", 2022),
    ("Mondelez", "Kraft Foods Inc.", "Mondelez International", 2012),
    ("Ally Financial", "GMAC", "Ally Financial", 2010),
    ("PayPal", "X.com", "PayPal", 2001),
    ("Twitch", "Justin.tv", "Twitch Interactive", 2014),
    ("TotalEnergies", "Total", "TotalEnergies", 2021),
    ("Shell", "Royal Dutch Shell", "Shell plc", 2022),
    ("Orsted", "DONG Energy", "Orsted", 2017),
    ("Equinor", "Statoil", "Equinor", 2018),
    ("Tesla", "Tesla Motors", "Tesla, Inc.", 2017),
    ("Disney", "Walt Disney Productions", "The Walt Disney Company", 1986),
    ("Academi", "Blackwater", "Xe Services", 2009),
    ("RTX", "Raytheon Technologies", "RTX", 2023),
    ("Sara Lee", "Consolidated Foods", "Sara Lee Corporation", 1985),
    ("AT&T", "SBC Communications", "AT&T Inc.", 2005),
    ("Dell", "Dell Computer Corporation", "Dell Inc.", 2003),
    ("Hindustan Unilever", "Hindustan Lever", "Hindustan Unilever", 2007),
    ("BP", "Anglo-Iranian Oil Company", "British Petroleum", 1954),
    ("Mazda", "Toyo Kogyo", "Mazda Motor Corporation", 1984),
    ("Walmart", "Wal-Mart Stores", "Walmart Inc.", 2018),
    ("Netscape", "Mosaic Communications", "Netscape Communications", 1994),
    ("eBay", "AuctionWeb", "eBay", 1997),
    ("Kellanova", "Kellogg Company", "Kellanova", 2023),
    ("Navistar", "International Harvester", "Navistar", 1986),
    ("Citibank", "First National City Bank", "Citibank", 1976),
)
