"""The story admin: stories (add by text or URL, re-extract), sources and feeds."""

import logging

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import path, reverse
from django.utils.html import format_html

from articles import services
from articles.models import Article, Feed, Source
from articles.signals import story_redated
from articles.text import clean_line, clean_text
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
    ]
    list_filter = ["status", "date_source", "language", "source"]
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
    actions = ["reextract"]

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
