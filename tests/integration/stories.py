"""Original short news stories for the integration tests (invented names and events)."""

from __future__ import annotations

import random

# Test 1: the search entity is Geneva; every story names it.
GENEVA_ADMIN = {
    "url": "https://news.example.org/world/2025/03/geneva-water-talks/",
    "title": "Water talks resume in Geneva",
    "text": (
        "Negotiators from Norway and Chile met in Geneva on Monday to restart talks on "
        "sharing glacier research.\n\n"
        "Ingrid Solheim, who leads the Norwegian delegation, said the meeting at the "
        "United Nations office had been constructive. Chile sent a team from Santiago.\n\n"
        "The talks in Geneva are expected to last until Friday."
    ),
}
GENEVA_JSONL = [
    {
        "url": "https://news.example.org/world/2025/03/geneva-summit-delayed/",
        "title": "Geneva summit delayed by a week",
        "text": (
            "A summit planned in Geneva was delayed after delegates from Kenya asked for more "
            "time.\n\n"
            "Samuel Kiprop, Kenya's envoy, told reporters in Nairobi that the draft was "
            "unfinished. Organisers in Geneva agreed to the new date."
        ),
        "published_at": "2025-03-04T09:30:00Z",
        "source": "Example Wire",
    },
    {
        "url": "https://news.example.org/business/2025/03/geneva-bank-fined/",
        "title": "Geneva bank fined over reporting errors",
        "text": (
            "Swiss regulators fined a private bank in Geneva for late reports on foreign "
            "clients.\n\n"
            "The Swiss Financial Market Supervisory Authority said the bank had corrected its "
            "systems. Analysts in Zurich said the fine was modest."
        ),
        "published_at": "2025-03-05T14:00:00Z",
        "source": "Example Wire",
    },
]

# Test 2: a long story, so that extraction takes seconds.
_FIRST = [
    "Amara",
    "Bernhard",
    "Celestine",
    "Dmitri",
    "Eleanor",
    "Farid",
    "Greta",
    "Hiroshi",
    "Ines",
    "Jonas",
    "Katarina",
    "Lorenzo",
    "Mireille",
    "Nikolai",
    "Pavel",
    "Rosalind",
]
_LAST = [
    "Okonkwo",
    "Vasquez",
    "Lindqvist",
    "Haddad",
    "Moreau",
    "Takahashi",
    "Brennan",
    "Kowalczyk",
    "Abernathy",
    "Castellano",
]
_ORGS = [
    "the Northbridge Water Authority",
    "the Meridian Institute",
    "the Caldera Mining Group",
    "the Riverside Health Trust",
    "the Baltic Ferry Company",
]
_PLACES = ["Lisbon", "Nairobi", "Oslo", "Valparaíso", "Kraków", "Hanoi", "Winnipeg", "Tbilisi"]
_VERBS = ["met", "criticised", "praised", "called", "wrote to", "visited", "thanked"]


def long_story_text(*, chars: int, seed: int) -> str:
    """Paragraphs of varied sentences full of names, `chars` long."""
    rng = random.Random(seed)

    def sentence() -> str:
        person = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        org, place = rng.choice(_ORGS), rng.choice(_PLACES)
        return rng.choice(
            [
                f"{person} {rng.choice(_VERBS)} officials from {org} in {place} on Tuesday.",
                f"In {place}, {person} said the plan by {org} would cost more than expected.",
                f"Officials at {org} told reporters that {person} had left for {place}.",
                f"{person} will travel to {place} next month, according to {org}.",
            ]
        )

    paragraphs, length = [], 0
    while length < chars:
        paragraph = " ".join(sentence() for _ in range(rng.randint(3, 7)))
        paragraphs.append(paragraph)
        length += len(paragraph) + 2
    return "\n\n".join(paragraphs)[:chars].rsplit(".", 1)[0] + "."


# Test 3: twenty stories sharing brand-new names; stories 2k and 2k+1 also share a pair.
RACE_SHARED = ["Ottoline Marchbanks", "Vendramin Logistics", "Brisco Harbour Council"]
_RACE_PAIRS = [
    ("Halvard Quistgaard", "Tamsin Ellery-Vane"),
    ("Corvin Adeyemi-Ross", "Lucette Pragnell"),
    ("Oswin Tarrant", "Marisol Venkataraman"),
    ("Ilse Brudenell", "Fenwick Oyelaran"),
    ("Rainier Culpepper", "Zofia Wetherall"),
    ("Anselm Kittredge", "Beatrix Okafor-Lund"),
    ("Desmond Aucott", "Yevgenia Strand"),
    ("Lysander Pocock", "Henrietta Mbeki-Shaw"),
    ("Thaddeus Wren", "Clementine Asante"),
    ("Gideon Hallworth", "Perpetua Ndlovu"),
]


def race_story(i: int) -> dict:
    a, b = _RACE_PAIRS[i // 2]
    person, company, council = RACE_SHARED
    return {
        "url": f"https://news.example.org/local/2025/04/port-contract-{i}/",
        "title": f"{a} questions {company} contract",
        "text": (
            f"{a} and {b} asked {company} on Tuesday to publish the terms of its port "
            f"contract, report {i}.\n\n"
            f"{person}, who chairs the {council}, said the contract would be reviewed. "
            f"{b} said residents deserved answers, and {a} agreed.\n\n"
            f"{company} declined to comment. {person} is expected to report next week."
        ),
    }


# Test 6: two names an editor merges, a name an editor blocks, and a burst.
DUNMORE_STORIES = [
    {
        "url": "https://news.example.org/business/2025/05/dunmore-ferry-order/",
        "title": "Dunmore Shipyards wins ferry order",
        "text": (
            "Dunmore Shipyards will build two electric ferries for the Orkney Islands "
            "Council, the company said in Glasgow on Wednesday.\n\n"
            "Alasdair Rennick, the yard's chief executive, said the order secured 400 jobs. "
            "The ferries are due in 2027."
        ),
    },
    {
        "url": "https://news.example.org/business/2025/05/dunmore-apprentices/",
        "title": "Dunmore Shipbuilding hires apprentices",
        "text": (
            "Dunmore Shipbuilding took on 60 apprentices at its yard on the Clyde, the firm "
            "said on Thursday.\n\n"
            "Morag Ferrier, who runs the training programme, said most would work on the new "
            "ferries. Glasgow City Council welcomed the news."
        ),
    },
]


def burst_story(i: int) -> dict:
    return {
        "url": f"https://news.example.org/local/2025/06/harbour-dues-{i}/",
        "title": f"Harbour dues rise at Tarnwick, notice {i}",
        "text": (
            f"Port of Tarnwick officials raised harbour dues by {i + 2} per cent on Monday, "
            f"in notice {i} of the year.\n\n"
            "Fishing crews in Tarnwick said the rise would hurt small boats, and Councillor "
            "Edwina Marsh promised a review."
        ),
    }
