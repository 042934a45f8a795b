from django.apps import AppConfig


def _story_redated(sender, *, article_id: int, **kwargs) -> None:
    from entities.services import mentions_sync_published_at  # models load after apps.py

    mentions_sync_published_at(article_id=article_id)


class EntitiesConfig(AppConfig):
    name = "entities"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from articles.signals import story_redated  # connected once the apps are ready

        story_redated.connect(_story_redated, dispatch_uid="entities-story-redated")

        from entities.history import connect_signals

        connect_signals()
