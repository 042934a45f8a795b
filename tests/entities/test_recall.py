"""Names NER missed, found from names the story or the corpus knows (issue #13)."""

from entities.recall import with_known_names
from entities.resolution import RawSpan

TEXT = (
    "Alexander Lebed flew to Grozny on Thursday. Officials said Lebed carried full powers. "
    "Lebed met rebels near the Port of Grozny. Ivanka Lebed was not there."
)


def _spans(text: str, *names: tuple[str, str]) -> list[RawSpan]:
    spans = []
    for name, label in names:
        start = text.index(name)
        spans.append(RawSpan(name, label, start, start + len(name)))
    return spans


def test_a_name_the_story_found_once_is_found_again():
    ner = _spans(TEXT, ("Alexander Lebed", "PERSON"), ("Grozny", "GPE"))
    found = with_known_names(TEXT, ner, corpus={})
    added = [(s.text, s.label, s.start) for s in found[len(ner) :]]
    # "Lebed" mid-sentence and at a sentence start (the story's own name);
    # not inside "Ivanka Lebed", someone else's name, nor "Grozny" inside
    # "Port of Grozny", a name of its own.
    assert added == [
        ("Lebed", "PERSON", TEXT.index("said Lebed") + 5),
        ("Lebed", "PERSON", TEXT.index("Lebed met")),
    ]


def test_a_name_the_corpus_knows_is_found_but_never_over_ner():
    text = "Talks in Geneva stalled. Kofi Annan said the United Nations would wait."
    ner = _spans(text, ("Geneva", "GPE"), ("Kofi Annan", "PERSON"))
    found = with_known_names(text, ner, corpus={"united nations": "ORG", "geneva": "GPE"})
    assert [(s.text, s.label) for s in found[len(ner) :]] == [("United Nations", "ORG")]


def test_a_corpus_surname_at_a_sentence_start_is_not_enough():
    text = "Major changes were announced. The plan was praised by Major."
    found = with_known_names(text, [], corpus={"major": "PERSON"})
    assert [(s.text, s.start) for s in found] == [("Major", text.rindex("Major"))]


def test_the_corpus_knows_names_from_stories_and_rules(db):
    from entities.models import Alias, Entity
    from entities.recall import corpus_names

    Entity.objects.create(name="Boris Yeltsin", type="PERSON", story_count=5)
    pmf = Entity.objects.create(name="Popular Mobilization Forces", type="ORG", story_count=1)
    Alias.objects.create(name="PMF", entity=pmf, origin=Alias.Origin.DEFINITION)
    Entity.objects.create(name="Rare Name", type="PERSON", story_count=1)
    known = corpus_names(["Aides to Yeltsin met the PMF and Rare Name in Baghdad."])
    assert known == {"yeltsin": "PERSON", "pmf": "ORG"}
