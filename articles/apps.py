from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_delete, post_save


def _corpus_changed(**kwargs) -> None:
    from newsgraph.infra import pagecache  # apps.py is imported before the caches are set up

    transaction.on_commit(lambda: pagecache.bump(pagecache.CORPUS))


class ArticlesConfig(AppConfig):
    name = "articles"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # A story added, edited or deleted changes what a text search matches.
        article = self.get_model("Article")
        post_save.connect(_corpus_changed, sender=article, dispatch_uid="pagecache-corpus")
        post_delete.connect(_corpus_changed, sender=article, dispatch_uid="pagecache-corpus")
