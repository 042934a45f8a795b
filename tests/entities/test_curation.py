"""Editors' curation services (SPEC §4): each applies everywhere and
survives re-extraction."""

import pytest

from articles.models import Article
from entities.models import Alias, BlockedName, Entity, Mention
from entities.normalize import name_key
from entities.services import (
    CurationError,
    blocked_name_apply,
    entities_block,
    entities_merge,
    entities_unblock,
    entity_change_type,
    entity_rename,
)
from tests.entities.conftest import (
    BARE_TRUMP,
    DONALD_TRUMP,
    KETTLES,
    MELANIA,
    PMF,
    SUDANI,
    TEHERAN,
    TEHRAN,
    about,
    entity_named,
    mention_rows,
)
from tests.factories import ArticleFactory, EntityFactory, MentionFactory


def names(article) -> set[str]:
    return set(about(article))


# --- merge ------------------------------------------------------------------------------


def test_merge_moves_mentions_and_keeps_the_names_as_aliases(ingest_story, curate):
    both = ingest_story(*TEHRAN)
    only_teheran = ingest_story(*TEHERAN)
    tehran, teheran = entity_named("Tehran"), entity_named("Teheran")
    assert about(both)["Tehran"].count == 1

    curate(entities_merge, target_id=tehran.id, source_ids=[teheran.id])

    assert not Entity.objects.filter(pk=teheran.pk).exists()
    assert list(tehran.aliases.values_list("name", flat=True)) == ["Teheran"]
    assert "Tehran" in names(only_teheran)
    assert about(only_teheran)["Tehran"].surfaces == "Teheran"
    # The story that named both keeps one mention with both spans.
    merged = about(both)["Tehran"]
    assert Mention.objects.filter(article=both, entity=tehran).count() == 1
    assert merged.count == 2
    assert merged.surfaces.splitlines() == ["Tehran", "Teheran"]
    full = f"{both.title}\n\n{both.text}"
    assert [full[s:e] for s, e in merged.spans] == ["Tehran", "Teheran"]
    # Stars recomputed: the entity's story count and its scores are fresh.
    tehran.refresh_from_db()
    assert tehran.story_count == 2
    assert merged.score == pytest.approx(merged.salience * tehran.specificity)


def test_merge_survives_re_extraction(ingest_story, curate, extract_again):
    both = ingest_story(*TEHRAN)
    only_teheran = ingest_story(*TEHERAN)
    tehran, teheran = entity_named("Tehran"), entity_named("Teheran")
    curate(entities_merge, target_id=tehran.id, source_ids=[teheran.id])
    before = [mention_rows(both), mention_rows(only_teheran)]

    extract_again(both, only_teheran)

    assert [mention_rows(both), mention_rows(only_teheran)] == before
    assert not Entity.objects.filter(key="teheran").exists()


def test_merge_recomputes_the_combined_mention(db, curate):
    article = ArticleFactory(
        title="Trump speaks", text="Donald Trump spoke.\n\nLater Trump left. Then more."
    )
    donald, trump = EntityFactory(name="Donald Trump"), EntityFactory(name="Trump")
    MentionFactory(article=article, entity=donald, spans=[[14, 26]], surfaces="Donald Trump")
    MentionFactory(article=article, entity=trump, spans=[[0, 5], [40, 45]], surfaces="Trump")

    curate(entities_merge, target_id=donald.id, source_ids=[trump.id])

    mention = Mention.objects.get(article=article)
    assert mention.entity == donald
    assert mention.spans == [[0, 5], [14, 26], [40, 45]]
    assert mention.surfaces.splitlines() == ["Donald Trump", "Trump"]
    assert (mention.count, mention.in_title, mention.in_lead) == (3, True, True)


def test_merge_moves_the_sources_aliases_too(db, curate):
    target, source = EntityFactory(name="Tehran"), EntityFactory(name="Teheran")
    Alias.objects.create(name="Tahran", entity=source)
    curate(entities_merge, target_id=target.id, source_ids=[source.id])
    assert sorted(target.aliases.values_list("name", flat=True)) == ["Tahran", "Teheran"]


def test_merge_rewrites_stories_where_the_name_was_read_as_someone_elses(
    ingest_story, curate, extract_again, keep_apart
):
    """Merging "Trump" into "Donald Trump" makes "Trump" a rule: the story
    where it was taken for Melania Trump's surname follows it too."""
    ingest_story(*DONALD_TRUMP)
    bare = ingest_story(*BARE_TRUMP)
    melania = ingest_story(*MELANIA)
    keep_apart("Trump", entity_named("Donald Trump"))  # the corpus would join them itself
    donald, trump = entity_named("Donald Trump"), entity_named("Trump")

    curate(entities_merge, target_id=donald.id, source_ids=[trump.id])

    assert about(bare)["Donald Trump"].entity_id == donald.id
    assert about(melania)["Donald Trump"].surfaces == "Trump"
    assert about(melania)["Melania Trump"].count == 1
    before = mention_rows(melania)
    extract_again(melania)
    assert mention_rows(melania) == before


# --- block / unblock ------------------------------------------------------------------------


def test_block_removes_mentions_and_future_extraction_skips_the_name(ingest_story, curate):
    article = ingest_story(*KETTLES)
    kettles = entity_named("Kettles")
    assert "Kettles" in names(article)

    curate(entities_block, entity_ids=[kettles.id])

    kettles.refresh_from_db()
    assert kettles.blocked
    assert kettles.story_count == 0
    assert "Kettles" not in names(article)
    assert not Mention.objects.filter(entity=kettles).exists()
    assert BlockedName.objects.filter(key="kettles").exists()
    later = ingest_story(*KETTLES, url="https://example.org/kettles-again")
    assert later.status == Article.Status.EXTRACTED
    assert "Kettles" not in names(later)
    assert "Britain" in names(later)


def test_block_survives_re_extraction(ingest_story, curate, extract_again):
    article = ingest_story(*KETTLES)
    curate(entities_block, entity_ids=[entity_named("Kettles").id])
    before = mention_rows(article)
    extract_again(article)
    assert mention_rows(article) == before
    assert not Mention.objects.filter(entity__key="kettles").exists()


def test_blocking_a_name_also_removes_it_where_it_was_a_partial(
    ingest_story, curate, extract_again
):
    full = ingest_story(*SUDANI)
    alone = ingest_story(
        "Tribal elders respond",
        "Tribal elders in Basra said Sudani had made promises before.\n\nThey were unconvinced.",
    )
    assert "Sudani" in names(alone)

    curate(entities_block, entity_ids=[entity_named("Sudani").id])

    assert "Sudani" not in names(alone)
    sudani = about(full)["Mohammed al-Sudani"]
    assert (sudani.count, sudani.surfaces) == (1, "Mohammed al-Sudani")
    before = mention_rows(full)
    extract_again(full, alone)
    assert mention_rows(full) == before


def test_unblock_re_extracts_and_brings_the_entity_back(ingest_story, curate):
    article = ingest_story(*KETTLES)
    kettles = entity_named("Kettles")
    curate(entities_block, entity_ids=[kettles.id])
    assert "Kettles" not in names(article)

    curate(entities_unblock, entity_ids=[kettles.id])

    kettles.refresh_from_db()
    assert not kettles.blocked
    assert not BlockedName.objects.exists()
    assert about(article)["Kettles"].entity_id == kettles.id
    assert kettles.story_count == 1
    later = ingest_story(*KETTLES, url="https://example.org/kettles-again")
    assert "Kettles" in names(later)


def test_blocked_name_apply_blocks_the_entity_and_the_partials(ingest_story, curate):
    full = ingest_story(*SUDANI)
    kettles_story = ingest_story(*KETTLES)
    blocked = BlockedName.objects.create(name="Sudani")
    curate(blocked_name_apply, blocked_name_id=blocked.id)
    assert about(full)["Mohammed al-Sudani"].count == 1

    argos = BlockedName.objects.create(name="Argos")
    curate(blocked_name_apply, blocked_name_id=argos.id)
    assert "Argos" not in names(kettles_story)
    assert Entity.objects.get(key="argos").blocked


# --- rename / change type ---------------------------------------------------------------------


def test_rename_keeps_the_old_name_as_alias(ingest_story, curate, extract_again):
    article = ingest_story(*PMF)
    pmf = entity_named("Popular Mobilization Forces")
    old_slug = pmf.slug

    curate(entity_rename, entity_id=pmf.id, name="Popular  Mobilisation Forces")

    pmf.refresh_from_db()
    assert pmf.name == "Popular Mobilisation Forces"
    assert pmf.slug != old_slug
    editors = pmf.aliases.filter(origin=Alias.Origin.EDITOR)  # "PMF" is the corpus's rule
    assert list(editors.values_list("name", flat=True)) == ["Popular Mobilization Forces"]
    assert about(article)["Popular Mobilisation Forces"].count == 3
    assert Entity.objects.matching_name("Popular Mobilization Forces").get() == pmf
    extract_again(article)
    assert about(article)["Popular Mobilisation Forces"].count == 3
    assert Entity.objects.count() == len(names(article))


def test_rename_of_case_only_keeps_no_alias(db, curate):
    entity = EntityFactory(name="IRAN", type="GPE")
    curate(entity_rename, entity_id=entity.id, name="Iran")
    entity.refresh_from_db()
    assert entity.name == "Iran"
    assert not entity.aliases.exists()


def test_rename_onto_an_existing_name_merges(ingest_story, curate):
    both = ingest_story(*TEHRAN)
    tehran, teheran = entity_named("Tehran"), entity_named("Teheran")

    result = curate(entity_rename, entity_id=teheran.id, name="tehran")

    assert result == tehran
    assert not Entity.objects.filter(pk=teheran.pk).exists()
    assert about(both)["Tehran"].count == 2
    assert list(tehran.aliases.values_list("name", flat=True)) == ["Teheran"]


def test_rename_onto_another_entitys_alias_is_refused(db, curate):
    donald = EntityFactory(name="Donald Trump", type="PERSON")
    Alias.objects.create(name="Trump", entity=donald)
    other = EntityFactory(name="Melania Trump", type="PERSON")
    with pytest.raises(CurationError, match="already an alias of Donald Trump"):
        curate(entity_rename, entity_id=other.id, name="Trump")
    other.refresh_from_db()
    assert other.name == "Melania Trump"


def test_rename_to_nothing_is_refused(db):
    entity = EntityFactory(name="Iran")
    with pytest.raises(CurationError):
        entity_rename(entity_id=entity.id, name="   ")


def test_change_type_survives_re_extraction(ingest_story, curate, extract_again):
    article = ingest_story(*KETTLES)
    argos = entity_named("Argos")
    assert argos.type == "GPE"

    curate(entity_change_type, entity_id=argos.id, type_="ORG")

    argos.refresh_from_db()
    assert argos.type == "ORG"
    extract_again(article)
    assert about(article)["Argos"].entity_id == argos.id
    assert Entity.objects.filter(key="argos").count() == 1


def test_change_type_onto_an_existing_entity_merges(db, curate):
    article = ArticleFactory()
    as_org = EntityFactory(name="Iran", type="ORG")
    as_place = EntityFactory(name="Iran", type="GPE")
    MentionFactory(article=article, entity=as_org)

    result = curate(entity_change_type, entity_id=as_org.id, type_="GPE")

    assert result == as_place
    assert not Entity.objects.filter(pk=as_org.pk).exists()
    assert Mention.objects.get(article=article).entity == as_place


def test_change_type_refuses_an_unknown_type(db):
    entity = EntityFactory(name="Iran")
    with pytest.raises(CurationError):
        entity_change_type(entity_id=entity.id, type_="PLANET")


def test_a_case_only_rename_keeps_the_entity_page_address(db, client, curate):
    entity = EntityFactory(name="IRAN", type="GPE")
    MentionFactory(entity=entity)
    url = entity.get_absolute_url()

    curate(entity_rename, entity_id=entity.id, name="Iran")

    entity.refresh_from_db()
    assert entity.get_absolute_url() == url
    assert client.get(url).status_code == 200


# --- rules are normalised like extracted names ------------------------------------------


@pytest.mark.parametrize(
    ("typed", "extracted"),
    [("Baghdad's", "Baghdad"), ("the Popular Mobilization Forces", "Popular Mobilization Forces")],
)
def test_a_rule_typed_with_an_article_or_possessive_has_the_extracted_key(db, typed, extracted):
    alias = Alias.objects.create(name=typed, entity=EntityFactory())
    blocked = BlockedName.objects.create(name=typed)
    assert alias.key == blocked.key == name_key(extracted)


def test_a_block_typed_with_an_article_removes_the_name_from_new_stories(ingest_story):
    BlockedName.objects.create(name="the Popular Mobilization Forces")
    article = ingest_story(*PMF)
    assert "Popular Mobilization Forces" not in names(article)
    assert "Baghdad" in names(article)
