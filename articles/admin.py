"""The story admin: stories (add by text or URL, re-extract, split and join
copy groups), sources and feeds."""

import logging

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from articles import copies, services
from articles.handover import RESCORE_ALL_TASK
from articles.models import Article, Feed, Source
from articles.signals import story_redated
from articles.text import clean_line, clean_text
from newsgraph.infra import pagecache
from newsgraph.infra.failures import failure_reason, is_store_failure
from newsgraph.infra.queue import enqueue

logger = logging.getLogger(__name__)

POLL_FEED_TASK = "articles.tasks.poll_feed"  # queued by name: no module imports a tasks module


class IngestForm(forms.Form):
    url = forms.URLField(max_length=2000, assume_scheme="https", label="URL")
    title = forms.CharField(max_length=500, required=False)
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12}),
        required=False,
        help_text="Leave empty to fetch the page at the URL and extract its text.",
    )
    published_at = forms.DateTimeField(required=False, help_text="YYYY-MM-DD HH:MM")
    source = forms.CharField(max_length=200, required=False)


class CopyFilter(admin.SimpleListFilter):
    title = "copies"
    parameter_name = "copies"

    def lookups(self, request, model_admin):
        return [("copy", "A copy of another story"), ("original", "Not a copy")]

    def queryset(self, request, queryset):
        if self.value() == "copy":
            return queryset.filter(copy_of__isnull=False)
        if self.value() == "original":
            return queryset.filter(copy_of__isnull=True)
        return queryset


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "source",
        "published_at",
        "date_source",
        "language",
        "status",
        "attempts",
        "original",
        "copy_group",
    ]
    list_filter = ["status", "date_source", "language", "source", CopyFilter, "copy_by_editor"]
    search_fields = ["title", "url"]
    list_select_related = ["source"]
    date_hierarchy = "published_at"
    readonly_fields = [
        "url",
        "canonical_url",
        "content_hash",
        "date_source",
        "status",
        "error",
        "attempts",
        "created_at",
        "extracted_at",
        "copy_of_link",
        "copy_similarity",
        "copy_by_editor",
        "group_versions",
    ]
    fields = [
        "title",
        "url",
        "source",
        "published_at",
        "language",
        "text",
        *readonly_fields[1:],
    ]
    actions = ["reextract", "join_copies", "make_representative", "split_copy"]

    @admin.display(description="Link")
    def original(self, article: Article) -> str:
        if not article.has_web_url:
            return "saved page"
        return format_html('<a href="{}" rel="noopener noreferrer">original</a>', article.url)

    def has_reextract_permission(self, request) -> bool:
        return request.user.has_perm("articles.reextract_article")

    def has_ingest_permission(self, request) -> bool:
        return request.user.has_perm("articles.ingest_article")

    @admin.action(description="Re-extract entities", permissions=["reextract"])
    def reextract(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        count = services.articles_reset_for_extraction(article_ids=ids)
        self.message_user(request, f"{count} stories queued for extraction.", messages.SUCCESS)
        # In the embedded default they were extracted in this request.
        failed = Article.objects.filter(id__in=ids, status=Article.Status.FAILED).count()
        if failed:
            self.message_user(
                request,
                f"{failed} of them failed; each says why in its status.",
                messages.WARNING,
            )

    # -- copy groups (articles/copies.py) ----------------------------------

    @admin.display(description="Copy of")
    def copy_group(self, article: Article) -> str:
        if article.copy_of_id is None:
            return "—"
        url = reverse("admin:articles_article_change", args=[article.copy_of_id])
        return format_html('<a href="{}">story {}</a>', url, article.copy_of_id)

    @admin.display(description="Copy of")
    def copy_of_link(self, article: Article) -> str:
        if article.copy_of_id is None:
            return "Not a copy (this story stands for its group, if it has one)"
        rep = article.copy_of
        url = reverse("admin:articles_article_change", args=[rep.pk])
        return format_html('<a href="{}">{}</a>', url, rep.title)

    @admin.display(description="Versions in the group")
    def group_versions(self, article: Article) -> str:
        members = copies.group_members(article.group_id)
        if len(members) < 2:
            return "None: no copies found"
        rows = format_html_join(
            "",
            '<li><a href="{}">{}</a> — {} · {}{}</li>',
            (
                (
                    reverse("admin:articles_article_change", args=[m.pk]),
                    m.title,
                    m.source.name if m.source else m.breadcrumb,
                    m.published_at.strftime("%Y-%m-%d %H:%M"),
                    " (representative)" if m.copy_of_id is None else "",
                )
                for m in members
            ),
        )
        return format_html("<ul>{}</ul>", rows)

    def _groups_changed(self, request, ids: list[int], message: str) -> None:
        """Record the editor's change on every story it moved (the admin log),
        and recount: counts, charts and stars count a group once."""
        for article in Article.objects.filter(pk__in=ids):
            self.log_change(request, article, message)
        transaction.on_commit(lambda: pagecache.bump(pagecache.CORPUS, pagecache.ENTITY_PROFILES))
        enqueue(RESCORE_ALL_TASK)

    @admin.action(
        description="Join as copies of one story (the earliest represents)", permissions=["change"]
    )
    def join_copies(self, request, queryset):
        stories = list(queryset)
        if len(stories) < 2 and not any(s.copy_of_id for s in stories):
            self.message_user(request, "Select at least two stories to join.", messages.WARNING)
            return
        ids = copies.copies_join(articles=stories)
        self._groups_changed(request, ids, f"Joined as copies of one story: {sorted(ids)}")
        self.message_user(request, f"{len(ids)} stories are now one group.", messages.SUCCESS)

    @admin.action(description="Make the representative of its group", permissions=["change"])
    def make_representative(self, request, queryset):
        stories = list(queryset)
        if len(stories) != 1:
            self.message_user(request, "Select one story.", messages.WARNING)
            return
        ids = copies.copies_join(articles=stories, representative=stories[0])
        self._groups_changed(request, ids, f"Chose story {stories[0].pk} to represent the group")
        self.message_user(request, f"“{stories[0].title}” now represents its group.")

    @admin.action(description="Split from its copy group", permissions=["change"])
    def split_copy(self, request, queryset):
        changed = []
        for article in queryset:
            changed += copies.copy_split(article=article)
        self._groups_changed(request, changed, "Split from its copy group")
        self.message_user(request, f"{queryset.count()} stories now stand alone.", messages.SUCCESS)

    def save_model(self, request, obj, form, change):
        # An editor's text is stored as clean as an ingested story's.
        if "title" in form.changed_data:
            obj.title = clean_line(obj.title)
        if "text" in form.changed_data:
            obj.text = clean_text(obj.text)
        if change and "published_at" in form.changed_data:  # an editor's date is a given one
            obj.date_source = Article.DateSource.GIVEN
        super().save_model(request, obj, form, change)
        if change and "published_at" in form.changed_data:
            story_redated.send(sender=Article, article_id=obj.pk)
        # A new language can change whether NER reads the story (SPACY_MODELS).
        if change and {"title", "text", "language"} & set(form.changed_data):
            services.articles_reset_for_extraction(article_ids=[obj.pk])

    def get_urls(self):
        return [
            path(
                "ingest/",
                self.admin_site.admin_view(self.ingest_view),
                name="articles_article_ingest",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:articles_article_ingest")

    def ingest_view(self, request):
        if not self.has_ingest_permission(request):
            raise PermissionDenied
        form = IngestForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if data["text"]:
                    result = services.article_ingest(
                        url=data["url"],
                        title=data["title"],
                        text=data["text"],
                        published_at=data["published_at"],
                        source=data["source"] or None,
                    )
                else:
                    result = services.article_ingest_url(
                        url=data["url"], source=data["source"] or None
                    )
            except services.IngestError as exc:
                form.add_error(None, str(exc))
            except Exception as exc:  # a library crashing on a hostile page
                if is_store_failure(exc):
                    raise
                logger.exception("admin add of %s failed", data["url"][:200])
                form.add_error(None, f"The story could not be added ({failure_reason(exc)}).")
            else:
                article = result.article
                if result.created:
                    self.message_user(request, f"Added “{article.title}”; extracting entities.")
                else:
                    self.message_user(
                        request, f"Already stored as “{article.title}”.", messages.WARNING
                    )
                return redirect(reverse("admin:articles_article_change", args=[article.pk]))
        return render(
            request,
            "admin/articles/ingest.html",
            {
                **self.admin_site.each_context(request),
                "title": "Add a story",
                "form": form,
                "opts": self.model._meta,
            },
        )


@admin.register(Feed)
class FeedAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "url",
        "active",
        "poll_interval_minutes",
        "last_polled_at",
        "last_result",
        "last_added",
        "stories_added",
    ]
    list_filter = ["active", "last_result"]
    search_fields = ["title", "url"]
    list_select_related = ["source"]
    readonly_fields = [
        "etag",
        "last_modified",
        "last_polled_at",
        "next_poll_at",
        "last_result",
        "last_error",
        "last_added",
        "stories_added",
        "created_at",
    ]
    actions = ["poll_now"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_poll_permission(self, request) -> bool:
        return request.user.has_perm("articles.poll_feed")

    @admin.action(description="Poll now", permissions=["poll"])
    def poll_now(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        for feed_id in ids:
            enqueue(POLL_FEED_TASK, feed_id)
        self.message_user(
            request,
            f"Polling {len(ids)} feed{pluralize(len(ids))}; the result shows here when done.",
            messages.SUCCESS,
        )
