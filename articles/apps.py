from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_delete, post_save


def _search_counts_stale(**kwargs) -> None:
    from newsgraph import pagecache

    transaction.on_commit(lambda: pagecache.bump(pagecache.SEARCH_COUNTS))


class ArticlesConfig(AppConfig):
    name = "articles"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # A story added, edited or deleted changes what a text search matches.
        article = self.get_model("Article")
        post_save.connect(_search_counts_stale, sender=article, dispatch_uid="search-counts")
        post_delete.connect(_search_counts_stale, sender=article, dispatch_uid="search-counts")
