from django.apps import AppConfig
from django.core import checks


def check_models(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Every configured spaCy model's NER labels are mapped to entity types
    (entities/labels.py), read from its meta.json without loading it."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    from entities.labels import label_map, model_labels

    errors = []
    for name in sorted({settings.SPACY_MODEL, *settings.SPACY_MODELS.values()}):
        labels = model_labels(name)
        if labels is None:
            continue  # not an installed package (a path?): checked when it loads
        try:
            label_map(name, labels)
        except ImproperlyConfigured as exc:
            errors.append(checks.Error(str(exc), id="entities.E001"))
    return errors


def _story_redated(sender, *, article_id: int, **kwargs) -> None:
    from entities.services import mentions_sync_published_at  # models load after apps.py

    mentions_sync_published_at(article_id=article_id)


class EntitiesConfig(AppConfig):
    name = "entities"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from articles.signals import story_redated  # connected once the apps are ready

        story_redated.connect(_story_redated, dispatch_uid="entities-story-redated")
        checks.register(check_models)

        from entities.history import connect_signals

        connect_signals()
