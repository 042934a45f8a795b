"""Clean names from wire copy (SPEC §10): tables, section prefixes, capitals,
common words. Real-shaped sentences through the real model where NER matters."""

import pytest

from entities.normalize import normalize_surface, rule_key
from entities.resolution import RawSpan, resolve_story
from entities.truecase import truecase


@pytest.mark.parametrize(
    ("raw", "label", "expected"),
    [
        ("Younis 4-95", "PERSON", "Younis"),
        ("Surrey 429-7", "ORG", "Surrey"),
        ("Helsinki Newsroom +358 - 0", "ORG", "Helsinki Newsroom"),
        ("SOCCER - RUSSIA", "GPE", "RUSSIA"),
        ("ATHLETICS - CHRISTIE", "PERSON", "CHRISTIE"),
        ("pro-Tehran", "NORP", "Tehran"),
        ("Interfax news agency", "ORG", "Interfax"),
        ("1. Linford Christie", "PERSON", "Linford Christie"),
        ("Charles de Gaulle", "PERSON", "Charles de Gaulle"),
        ("al-Sudani", "PERSON", "al-Sudani"),
        ("U.S. F-16", "PRODUCT", "U.S. F-16"),
    ],
)
def test_extracted_names_lose_figures_prefixes_and_descriptions(raw, label, expected):
    assert normalize_surface(raw, label) == expected


def test_an_editors_rule_means_what_it_says():
    assert rule_key("Formula 1") == "formula 1"
    assert rule_key("pro-Tehran") == "pro-tehran"


def test_a_results_table_run_together_by_ner_gives_each_club_its_own_name():
    text = "SOCCER - ENGLISH LEAGUE TABLE\n\n1 0 1 0 3 3 1 West Ham 2 0 1 1 1 3 1 Leeds 2 0 1"
    start = text.index("1 0 1 0")
    spans = [RawSpan(text[start:], "PRODUCT", start, len(text))]
    entities = resolve_story(spans, text=text, blocked_keys=set(), alias_targets={})
    assert [(e.name, e.spans) for e in entities] == [
        ("West Ham", [(text.index("West Ham"), text.index("West Ham") + 8)]),
        ("Leeds", [(text.index("Leeds"), text.index("Leeds") + 5)]),
    ]


def test_common_words_are_not_names():
    text = "Which\n\nWhich said the kettles were fine. Argos sold them."
    spans = [RawSpan("Which", "ORG", 0, 5), RawSpan("Argos", "ORG", 41, 46)]
    names = [e.name for e in resolve_story(spans, text=text, blocked_keys=set(), alias_targets={})]
    assert names == ["Argos"]


def test_capitals_are_cased_from_the_story_itself():
    text = (
        "RUSSIA: LEBED FLIES TO CHECHNYA FOR TRUCE TALKS\n\n"
        "MOSCOW 1996-08-15 Russian security chief Alexander Lebed flew to Chechnya, saying "
        "NATO had no role. Lebed told Interfax in Moscow."
    )
    cased = truecase(text)
    assert len(cased) == len(text)
    assert cased.startswith("Russia: Lebed flies to Chechnya for truce talks\n\nMoscow 1996-08-15")
    assert "NATO had no role" in cased  # an acronym in the body stays


def test_shouted_lines_reach_ner_cased(ingest_story):
    from entities.models import Entity

    ingest_story(
        "CLINTON LEADS DOLE IN NEW POLL",
        "WASHINGTON 1996-08-22 President Clinton leads Republican challenger Bob Dole "
        "by 12 points, a poll said on Thursday. Dole said the race would tighten.",
    )
    names = set(Entity.objects.filter(story_count__gt=0).values_list("name", flat=True))
    assert "Washington" in names
    assert not any(name.isupper() and len(name) > 4 for name in names)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Councillor Desmond Achebe", "Desmond Achebe"),
        ("President Clinton", "Clinton"),
        ("Chancellor of the Exchequer", "Chancellor of the Exchequer"),
        ("King Hussein", "King Hussein"),  # a title that is part of the name
    ],
)
def test_a_job_title_before_a_persons_name_goes(raw, expected):
    assert normalize_surface(raw, "PERSON") == expected
