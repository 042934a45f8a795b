import factory
from django.utils import timezone

from articles.models import Article, Source
from entities.models import Alias, Entity, Mention


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Source {n}")


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article

    url = factory.Sequence(lambda n: f"https://news.example.com/world/2025/02/story-{n}/")
    canonical_url = factory.LazyAttribute(lambda a: a.url.rstrip("/"))
    content_hash = factory.Sequence(lambda n: f"{n:064x}")
    title = factory.Sequence(lambda n: f"Story number {n}")
    text = "First paragraph of the story.\n\nSecond paragraph."
    source = factory.SubFactory(SourceFactory)
    published_at = factory.LazyFunction(timezone.now)
    status = Article.Status.EXTRACTED


class EntityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Entity

    name = factory.Sequence(lambda n: f"Entity {n}")
    type = "ORG"
    # So that a factory mention's score is its salience until a rescoring.
    specificity = 1.0


class AliasFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alias

    name = factory.Sequence(lambda n: f"Alias {n}")
    entity = factory.SubFactory(EntityFactory)


class MentionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mention

    article = factory.SubFactory(ArticleFactory)
    entity = factory.SubFactory(EntityFactory)

    class Params:
        # Tests that think in scores: salience × specificity (1.0 above).
        score = 1.0

    count = 1
    salience = factory.SelfAttribute("score")
    stars = 2
    surfaces = factory.LazyAttribute(lambda m: m.entity.name)
