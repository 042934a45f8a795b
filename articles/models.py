from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.text import slugify

from articles.urls_util import breadcrumb
from newsgraph.infra.addresses import address


class Source(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = self._free_slug()
        super().save(*args, **kwargs)

    def _free_slug(self) -> str:
        """The name's slug, numbered when another source's name has the same
        one ("Café" and "Cafe"; "★" and "Москва", which have none)."""
        # Names in other scripts ("Городские вести") are kept in Unicode.
        base = slugify(self.name, allow_unicode=True)[:190] or "source"
        taken = set(Source.objects.filter(slug__startswith=base).values_list("slug", flat=True))
        number = 1
        slug = base
        while slug in taken:
            number += 1
            slug = f"{base}-{number}"
        return slug


class ArticleQuerySet(models.QuerySet):
    def pending(self) -> ArticleQuerySet:
        return self.filter(status=Article.Status.PENDING)

    def extracted(self) -> ArticleQuerySet:
        return self.filter(status=Article.Status.EXTRACTED)

    def newest_first(self) -> ArticleQuerySet:
        return self.order_by("-published_at", "-id")

    def representatives(self) -> ArticleQuerySet:
        """Stories that stand for their copy group (or have no copies)."""
        return self.filter(copy_of__isnull=True)

    def with_has_copies(self) -> ArticleQuerySet:
        """Each story with `has_copies`, in the same query (so that a page
        whose stories have no copies reads no copy groups)."""
        return self.annotate(
            has_copies=models.Exists(Article.objects.filter(copy_of=models.OuterRef("pk")))
        )


class Article(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        EXTRACTED = "extracted", "Extracted"
        FAILED = "failed", "Failed"

    url = models.TextField(help_text="The URL as submitted.")
    canonical_url = models.TextField(unique=True)
    content_hash = models.CharField(max_length=64, unique=True)
    title = models.TextField()
    text = models.TextField()
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles"
    )

    class DateSource(models.TextChoices):
        GIVEN = "given", "Given with the story"
        PAGE = "page", "Read from the page"
        FEED = "feed", "From the feed entry"
        INGESTED = "ingested", "None found: dated when ingested"
        FUTURE = "future", "In the future: dated when ingested"

    # Stories without a (trustworthy) date are dated by their ingestion, so
    # every list can order by one indexed, non-null column; date_source says
    # where the date came from, for editors and the API.
    published_at = models.DateTimeField(default=timezone.now)
    date_source = models.CharField(
        max_length=10, choices=DateSource.choices, default=DateSource.GIVEN
    )
    # ISO 639-1 code of the story's language, "" when not detected.
    language = models.CharField(max_length=12, blank=True, default="", db_index=True)
    # For a story read from a web page: the page's title, date and Open Graph
    # metadata, canonical links, JSON-LD and <time> elements as a small HTML
    # document (articles/webpages.py kept_metadata: 1-5 KB, at most 32 KB),
    # so `manage.py redate` can re-date it without fetching the page again.
    page_metadata = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    extracted_at = models.DateTimeField(null=True, blank=True)
    # Copies of one story (articles/copies.py): a copy points at its group's
    # representative; a representative, like a story without copies, at
    # nothing. copy_similarity is what detection measured against the story
    # it matched; copy_by_editor marks a story an editor placed (split out,
    # joined, chosen to represent), which detection never moves.
    copy_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="copies",
        help_text="The story this one is a copy of (its group's representative).",
    )
    copy_similarity = models.FloatField(null=True, blank=True)
    copy_by_editor = models.BooleanField(
        default=False, db_default=False, help_text="Placed in or out of its group by an editor."
    )
    # The text's MinHash signature (articles/copies.py `Fingerprint.signature`):
    # what tells, before reading a candidate's text, that it cannot be a copy.
    # NULL for a story stored without one (a bulk load): its text is read.
    copy_signature = models.BinaryField(null=True, blank=True, editable=False)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        # Checked by the story admin's own actions and pages (SPEC §11).
        permissions = [
            ("reextract_article", "Can re-extract stories"),
            ("ingest_article", "Can add stories by URL or text"),
        ]
        indexes = [
            models.Index(fields=["-published_at", "-id"], name="article_newest_idx"),
            models.Index(fields=["status", "id"], name="article_status_idx"),
            models.Index(fields=["source", "published_at"], name="article_source_date_idx"),
            # The background rescoring reads the stories extracted since its
            # last pass from here, not from a scan of every story.
            models.Index(fields=["extracted_at"], name="article_extracted_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return address("articles:detail", self.pk)

    @property
    def has_web_url(self) -> bool:
        """False for a saved page stored under a `file:` identity: there is
        no original to link to."""
        return self.url.startswith(("http://", "https://"))

    @property
    def breadcrumb(self) -> str:
        return breadcrumb(self.url) if self.has_web_url else "saved page, no web address"

    @property
    def language_name(self) -> str:
        from articles.languages import language_name  # loads babel: only pages that show it

        return language_name(self.language)

    @property
    def group_id(self) -> int:
        """The id of the story standing for this one's copy group."""
        return self.copy_of_id or self.pk

    def lead(self) -> str:
        """The first paragraph, used by scoring and as the fallback snippet."""
        return self.text.strip().split("\n\n", 1)[0]


class StoryBand(models.Model):
    """One LSH band key of a story's text fingerprint (articles/copies.py):
    stories sharing a key are candidate copies, found by an index probe."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="bands")
    key = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["key", "article"], name="storyband_key_idx")]

    def __str__(self) -> str:
        return f"band key {self.key} of story {self.article_id}"


class FeedQuerySet(models.QuerySet):
    def due(self, now=None) -> FeedQuerySet:
        """Active feeds never polled, or whose next poll time has come."""
        now = now or timezone.now()
        return self.filter(active=True).filter(
            models.Q(next_poll_at__isnull=True) | models.Q(next_poll_at__lte=now)
        )


class Feed(models.Model):
    """An RSS or Atom feed polled by Celery beat."""

    class Result(models.TextChoices):
        NEVER = "", "Not polled yet"
        OK = "ok", "New entries read"
        NOT_MODIFIED = "not-modified", "Not modified (304)"
        ERROR = "error", "Error"

    url = models.URLField(max_length=2000, unique=True)
    title = models.CharField(max_length=300, blank=True)
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="feeds"
    )
    poll_interval_minutes = models.PositiveIntegerField(default=30)
    active = models.BooleanField(default=True)
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_result = models.CharField(max_length=20, choices=Result.choices, blank=True)
    last_error = models.TextField(blank=True)
    last_added = models.PositiveIntegerField(default=0)
    stories_added = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FeedQuerySet.as_manager()

    class Meta:
        permissions = [("poll_feed", "Can poll feeds now")]
        ordering = ["title", "url"]

    def __str__(self) -> str:
        return self.title or self.url
