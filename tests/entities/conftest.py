"""Stories whose names en_core_web_sm tags reliably (checked by running it),
and helpers to read what extraction stored."""

import pytest

from entities.models import Entity, Mention
from entities.normalize import name_key

SUDANI = (
    "Iraqi leader meets tribal elders",
    "Iraqi Prime Minister Mohammed al-Sudani met tribal leaders in Baghdad on Monday.\n\n"
    "Sudani said the talks went well and promised more funding.",
)
PMF = (
    "Militias face new budget rules",
    "The Popular Mobilization Forces (PMF) were founded in 2014 to fight militants.\n\n"
    "The PMF has tens of thousands of fighters, officials in Baghdad said.",
)
WALSHE = (
    "Lawyer arrested in fraud inquiry",
    "Police arrested Arran Robert Walshe, a lawyer from Dublin, on Tuesday.\n\n"
    "Police said Walshe had been under investigation for two years.",
)
SMITHS = (
    "Council meeting ends early",
    "John Smith and Mary Smith attended the meeting in London on Friday.\n\n"
    "Smith said the meeting was productive.",
)
DONALD_TRUMP = (
    "Campaign trail",
    "Donald Trump spoke to reporters in Washington on Monday.\n\nHe later flew to Ohio.",
)
BARE_TRUMP = (
    "Rally in Ohio",
    "Republican candidate Trump said he would visit Ohio next week.\n\n"
    "Supporters gathered in Columbus.",
)
MELANIA = (
    "A visit to France",
    "On Sunday, Ivanka Trump toured Paris with Melania Trump.\n\nTrump praised the city.",
)
MERKEL = (
    "Minister resigns",
    "Angela Merkel spoke in Berlin on Thursday.\n\nMerkel said Germany would help.",
)
MARKETS = (
    "Markets rally",
    "Shares rose in Tokyo and London on Wednesday.\n\nInvestors in Frankfurt were cautious.",
)


def about(article) -> dict[str, Mention]:
    """The story's visible mentions by entity name: what its about-list shows."""
    return {
        m.entity.name: m
        for m in Mention.objects.visible().filter(article=article).select_related("entity")
    }


def mention_rows(article) -> list[tuple]:
    """Everything extraction stores about a story, comparable across runs."""
    return sorted(
        Mention.objects.filter(article=article).values_list(
            "entity_id", "count", "in_title", "in_lead", "spread", "spans", "surfaces", "salience"
        )
    )


def entity_named(name: str) -> Entity:
    return Entity.objects.get(key=name_key(name))


@pytest.fixture
def fresh_cache():
    """The rescore debounce flag lives in the cache, which outlives a test."""
    from django.core.cache import cache

    cache.clear()
    yield cache
    cache.clear()


TEHRAN = (
    "Talks resume",
    "Officials in Tehran said on Monday that talks would resume.\n\n"
    "Diplomats in Teheran were less sure.",
)
TEHERAN = (
    "Embassy reopens",
    "The embassy in Teheran reopened on Friday.\n\nStaff returned from Cairo.",
)
# spaCy takes the headline's "Kettles" for a place: junk an editor blocks.
KETTLES = (
    "Kettles tested",
    "Researchers at Which tested kettles sold by Argos in Britain.\n\n"
    "Experts at Which found that most were fine.",
)


@pytest.fixture
def extract_again(django_capture_on_commit_callbacks):
    """Re-run extraction of stories (and the rescoring it schedules)."""
    from entities.extraction import articles_extract

    def run(*articles):
        with django_capture_on_commit_callbacks(execute=True):
            articles_extract(article_ids=[a.id for a in articles])

    return run


@pytest.fixture
def curate(django_capture_on_commit_callbacks):
    """Call a curation service and run what it queued after commit
    (re-extraction, rescoring), as the eager broker would."""

    def run(service, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return run


@pytest.fixture
def keep_apart(django_capture_on_commit_callbacks):
    """An editor turns off the corpus's rule joining `name` to `entity`
    (SPEC §10): the name is read on its own in stored and future stories."""
    from entities.models import Alias
    from entities.services import alias_set_active

    def run(name: str, entity):
        alias = Alias.objects.filter(key=name_key(name)).first() or Alias.objects.create(
            name=name, entity=entity, origin=Alias.Origin.PARTIAL
        )
        with django_capture_on_commit_callbacks(execute=True):
            alias_set_active(alias_id=alias.pk, active=False)

    return run
