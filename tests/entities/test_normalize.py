"""Surface normalisation and lookup keys (SPEC §5)."""

import pytest

from entities.normalize import name_key, normalize_surface


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("the Kurdish Democratic Party", "Kurdish Democratic Party"),
        ("The Kurdish Democratic Party", "Kurdish Democratic Party"),
        ("Iran’s", "Iran"),
        ("Iran's", "Iran"),
        ("the United States’", "United States"),
        ("Reuters'", "Reuters"),
        ("“Hamas”", "Hamas"),
        ('"Hamas"', "Hamas"),
        ("  Joe   Biden ", "Joe Biden"),
        ("Kurdish\nDemocratic \t Party", "Kurdish Democratic Party"),
        ("Mr. Smith", "Smith"),
        ("Dr Anne Mathieu", "Anne Mathieu"),
        ("Paris.", "Paris"),
        ("(Baghdad)", "Baghdad"),
        ("Ali Nima —", "Ali Nima"),
        ("Ahmed al‐Sharaa", "Ahmed al-Sharaa"),  # U+2010 hyphen folded to "-"
        ("the U.S.", "U.S."),
        ("U.N.", "U.N."),
    ],
)
def test_normalize_surface_cleans_the_name(raw, expected):
    assert normalize_surface(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "a",
        "X",
        "123",
        "2,000",
        "— ’s",
        "hello world",  # all lower case: a tagging accident, not a name
        "the",
        "The",
        "Mr.",
        "X" * 121,
    ],
)
def test_normalize_surface_rejects_junk(raw):
    assert normalize_surface(raw) == ""


def test_normalize_surface_keeps_a_long_but_plausible_name():
    name = "International Committee of the Red Cross"
    assert normalize_surface(name) == name


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Iran", "IRAN"),
        ("Zürich", "Zurich"),
        ("José Martí", "Jose Marti"),
        ("Kurdish  Democratic Party", " kurdish democratic party "),
        ("Iran’s", "Iran's"),
        ("al–Sudani", "al-Sudani"),
    ],
)
def test_name_key_folds_case_accents_quotes_and_spaces(a, b):
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [("Iran", "Iraq"), ("Jordan", "Jordan Peterson"), ("Georgia", "Georgian")],
)
def test_name_key_keeps_different_names_apart(a, b):
    assert name_key(a) != name_key(b)
