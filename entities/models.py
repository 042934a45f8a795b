from __future__ import annotations

import sys
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, models
from django.db.models.expressions import RawSQL
from django.utils.text import slugify

from entities.normalize import name_key, rule_key, surname_key
from newsgraph.infra.addresses import address


class EntityType(models.TextChoices):
    PERSON = "PERSON", "Person"
    ORG = "ORG", "Organisation"
    GPE = "GPE", "Country, city or state"
    LOC = "LOC", "Location"
    NORP = "NORP", "Nationality or group"
    FAC = "FAC", "Facility"
    EVENT = "EVENT", "Event"
    PRODUCT = "PRODUCT", "Product"
    LAW = "LAW", "Law"
    WORK_OF_ART = "WORK_OF_ART", "Work of art"
    LANGUAGE = "LANGUAGE", "Language"
    # WikiNER's MISC (French and other pipelines: entities/labels.py).
    MISC = "MISC", "Other name"


class EntityQuerySet(models.QuerySet):
    def visible(self) -> EntityQuerySet:
        return self.filter(blocked=False)

    def with_keys(self, keys: Iterable[str]) -> EntityQuerySet:
        """Entities whose key is one of `keys` (a batch's names: hundreds).
        On PostgreSQL the keys go in as an unnested array, joined through the
        key's B-tree: given a literal list of a few hundred, the planner probes
        the trigram index (entity_key_trgm, which pg_trgm lets answer equality)
        instead: 1.9 s against 6 ms for 900 keys among 20,000 entities."""
        keys = list(keys)
        if connections[self.db].vendor == "postgresql":
            return self.filter(key__in=RawSQL("SELECT unnest(%s::varchar[])", (keys,)))
        return self.filter(key__in=keys)

    def keys_starting(self, prefix: str) -> EntityQuerySet:
        """Entities whose key starts with `prefix`, read through an index on
        both databases. SQLite never uses one for `LIKE … ESCAPE` (what
        `key__startswith` compiles to): a scan of every entity, 2 ms each at
        100,000 stories. There it is the key's range instead, from the prefix
        to the prefix with its last character's successor (SQLite compares
        text by code point). PostgreSQL reads entity_key_prefix for `LIKE`."""
        last = prefix[-1:]
        if connections[self.db].vendor == "sqlite" and last and ord(last) < sys.maxunicode:
            return self.filter(key__gte=prefix, key__lt=prefix[:-1] + chr(ord(last) + 1))
        return self.filter(key__startswith=prefix)

    def matching_name(self, name: str) -> EntityQuerySet:
        """Entities whose canonical name or any alias has this key."""
        # As typed, and normalised like a rule ("Iran's" finds Iran).
        keys = {name_key(name), rule_key(name)}
        return self.filter(
            models.Q(key__in=keys) | models.Q(aliases__key__in=keys, aliases__active=True)
        ).distinct()


class Entity(models.Model):
    name = models.CharField(max_length=200)
    key = models.CharField(max_length=200, editable=False)
    type = models.CharField(max_length=16, choices=EntityType.choices)
    slug = models.SlugField(max_length=220, unique=True)
    blocked = models.BooleanField(default=False)
    # Denormalised by rescoring: number of stories with a visible mention.
    story_count = models.PositiveIntegerField(default=0)
    # ln(1 + N / df), written by rescoring, read by the score of each mention.
    specificity = models.FloatField(default=0.0)
    first_seen = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # A person's surname (the last word of the key), for the corpus to find
    # the full names a partial name may stand for ("yeltsin"): PERSON only.
    surname_key = models.CharField(max_length=100, blank=True, default="", editable=False)
    # An editor chose the name or the type: corpus majorities no longer change it.
    name_locked = models.BooleanField(default=False)
    type_locked = models.BooleanField(default=False)
    # Touched by extraction since the corpus last re-decided its type and name.
    unsettled = models.BooleanField(default=True)

    objects = EntityQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "entities"
        # One per curation action, each checked by its own admin action (SPEC §11).
        permissions = [
            ("merge_entity", "Can merge entities"),
            ("block_entity", "Can block and unblock entities"),
            ("rename_entity", "Can rename entities"),
            ("retype_entity", "Can change the type of entities"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["key", "type"], name="entity_unique_key_type"),
        ]
        indexes = [
            models.Index(fields=["key"], name="entity_key_idx"),
            models.Index(fields=["-story_count"], name="entity_story_count_idx"),
            models.Index(
                fields=["surname_key"],
                name="entity_surname_idx",
                condition=~models.Q(surname_key=""),
            ),
            models.Index(
                fields=["id"], name="entity_unsettled_idx", condition=models.Q(unsettled=True)
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.key = name_key(self.name)
        self.surname_key = surname_key(self.key, self.type)
        if not self.slug:
            self.slug = self.unique_slug(self.name, self.type)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return address("entities:detail", self.slug)

    @property
    def known_as(self) -> list[str]:
        """Other names that find it (its active rules), editors' first: from
        prefetched aliases when there are some, so a page costs no query."""
        rules = [a for a in self.aliases.all() if a.active]
        return [a.name for a in sorted(rules, key=lambda a: (a.automatic, a.name.casefold()))]

    @classmethod
    def unique_slug(cls, name: str, type_: str, *, entity_id: int | None = None) -> str:
        """A free address for the name: never one another entity has or had
        (old addresses redirect, EntitySlug); the entity's own old one is free."""
        base = slugify(name)[:200] or "entity"
        candidates = [base, f"{base}-{type_.lower().replace('_', '-')}"]

        def taken(slug: str) -> bool:
            return (
                cls.objects.filter(slug=slug).exclude(pk=entity_id).exists()
                or EntitySlug.objects.filter(slug=slug).exclude(entity_id=entity_id).exists()
            )

        for candidate in candidates:
            if not taken(candidate):
                return candidate
        n = 2
        while taken(f"{candidates[1]}-{n}"):
            n += 1
        return f"{candidates[1]}-{n}"


class Alias(models.Model):
    """A rule: this surface form always means that entity.

    Editors write rules; the corpus writes some too (SPEC §10), each with the
    evidence for it: a country or state name from maintained data, an
    acronym defined in a story, the one full name a partial name can stand
    for. An automatic rule an editor turns off (`active`) stays, so it is
    never made again; an editor's rule always wins.
    """

    class Origin(models.TextChoices):
        EDITOR = "editor", "Editor"
        DATA = "data", "Country and state names (maintained data)"
        DEFINITION = "definition", "Acronym defined in a story"
        PARTIAL = "partial", "The one full name the corpus knows"

    name = models.CharField(max_length=200)
    key = models.CharField(max_length=200, unique=True, editable=False)
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="aliases")
    created_at = models.DateTimeField(auto_now_add=True)
    origin = models.CharField(max_length=12, choices=Origin.choices, default=Origin.EDITOR)
    active = models.BooleanField(
        default=True, help_text="Untick to undo an automatic rule: its stories are re-resolved."
    )
    evidence = models.TextField(blank=True)
    # How sure the corpus was when it wrote an automatic rule (0-1); rules
    # below settings.IDENTITY_RULE_CONFIDENCE are proposed, never written.
    confidence = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "aliases"
        ordering = ["name"]
        permissions = [("toggle_alias", "Can turn rules off and on")]

    def __str__(self) -> str:
        return f"{self.name} → {self.entity.name}"

    def save(self, *args, **kwargs):
        self.key = rule_key(self.name)
        if self.origin == self.Origin.EDITOR:
            # An editor's rule replaces an automatic one for the same name.
            Alias.objects.filter(key=self.key).exclude(origin=self.Origin.EDITOR).exclude(
                pk=self.pk
            ).delete()
        super().save(*args, **kwargs)

    @property
    def automatic(self) -> bool:
        return self.origin != self.Origin.EDITOR

    def clean(self):
        # The key is not a form field, so forms would not check its uniqueness:
        # without this a second "Trump" is an IntegrityError.
        clash = (
            Alias.objects.filter(key=rule_key(self.name), origin=self.Origin.EDITOR)
            .exclude(pk=self.pk)
            .first()
        )
        if clash and self.origin == self.Origin.EDITOR:
            raise ValidationError(
                {"name": f"“{clash.name}” is already an alias of {clash.entity.name}."}
            )


class BlockedName(models.Model):
    """A curated rule: this surface form is junk and is never extracted."""

    name = models.CharField(max_length=200)
    key = models.CharField(max_length=200, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.key = rule_key(self.name)
        super().save(*args, **kwargs)

    def clean(self):
        # As for Alias: the key's uniqueness is not checked by forms.
        clash = BlockedName.objects.filter(key=rule_key(self.name)).exclude(pk=self.pk).first()
        if clash:
            raise ValidationError({"name": f"“{clash.name}” is already blocked."})


class StarsMixin:
    """How a mention's stars read on a page (Mention, and the plain-value
    about-list entries of newsgraph/browse/about.py)."""

    __slots__ = ()
    stars: int

    @property
    def stars_display(self) -> str:
        return "★" * self.stars

    @property
    def stars_label(self) -> str:
        return f"{self.stars} of 4 stars"


class MentionQuerySet(models.QuerySet):
    def visible(self) -> MentionQuerySet:
        return self.filter(entity__blocked=False)

    def most_about_first(self) -> MentionQuerySet:
        """An entity's mentions most about it first: by salience (within one
        entity, the score's order), then newest, read from
        mention_entity_rank_idx. Stars are set against each story's top
        score (issue #23), so they mostly but not always fall down the list."""
        return self.order_by("-salience", "-published_at", "-article_id")

    def newest_first(self) -> MentionQuerySet:
        """By the story's date (mention_entity_date_idx)."""
        return self.order_by("-published_at", "-article_id")

    def newest_of_each(
        self, entity_ids: Iterable[int], *fields: str, limit: int
    ) -> dict[int, list[tuple]]:
        """The `fields` of each entity's newest `limit` mentions, for a batch
        of thousands of entities: the query is built once and run per entity
        (an index range each), not rebuilt by the ORM 2,000 times, which cost
        more than running it (settling, docs/BENCHMARKS.md). Values come as
        the database gives them (no field converters)."""
        sentinel = -1  # no entity has it: marks the id's place in the params
        sql, params = (
            self.filter(entity_id=sentinel).newest_first().values_list(*fields)[:limit]
        ).query.sql_with_params()
        assert params.count(sentinel) == 1, "the entity id's place is ambiguous"
        at = params.index(sentinel)
        rows: dict[int, list[tuple]] = {}
        with connections[self.db].cursor() as cursor:
            for entity_id in entity_ids:
                cursor.execute(sql, (*params[:at], entity_id, *params[at + 1 :]))
                rows[entity_id] = cursor.fetchall()
        return rows


class Mention(StarsMixin, models.Model):
    """One entity in one story, with what scoring needs to know about it."""

    # No single-column indexes on the foreign keys: the unique (article,
    # entity) constraint serves lookups by article and the rank index lookups
    # by entity, and each extra index is rewritten for every mention a
    # rescoring updates (docs/BENCHMARKS.md).
    article = models.ForeignKey(
        "articles.Article", on_delete=models.CASCADE, related_name="mentions", db_index=False
    )
    entity = models.ForeignKey(
        Entity, on_delete=models.CASCADE, related_name="mentions", db_index=False
    )
    count = models.PositiveIntegerField(default=1)
    in_title = models.BooleanField(default=False)
    in_lead = models.BooleanField(default=False)
    # Share of the text between the first and last mention (0..1).
    spread = models.FloatField(default=0.0)
    # Character offsets [[start, end], ...] into title + "\n\n" + text.
    spans = models.JSONField(default=list)
    # The distinct surface forms seen, one per line ("Sudani\nMohammed al-Sudani").
    surfaces = models.TextField(blank=True)
    salience = models.FloatField(default=0.0)
    # No stored score: score = salience × the entity's specificity (SPEC §6)
    # is read through `score`, so a rescoring, whose N changes every score,
    # writes only the stars that move instead of every mention
    # (docs/BENCHMARKS.md).
    stars = models.PositiveSmallIntegerField(default=1)
    # NER's label for the name in this story (its majority), which the
    # corpus-level type of the entity is decided from; "" before #11.
    label = models.CharField(max_length=16, blank=True, default="")
    # The story's date, copied so an entity's stories can be ranked (and
    # counted per week) from this table's indexes alone, without joining and
    # sorting all of them. Set wherever mentions are created; kept in sync by
    # entities.services.mentions_sync_published_at() when a story's date
    # changes (only the admin changes it).
    published_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = MentionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "entity"], name="mention_unique_pair"),
        ]
        indexes = [
            # An entity's stories ranked (score, then newest): page N of a list
            # is a range scan of this index, whatever the entity's size.
            # Within one entity the score follows the salience (one
            # specificity), so the index holds salience, which never changes:
            # no index holds stars, and with the table's free space
            # (fillfactor, migration 0007) rewriting the stars is a heap-only
            # (HOT) update.
            models.Index(
                "entity",
                models.F("salience").desc(),
                models.F("published_at").desc(),
                models.F("article_id").desc(),
                name="mention_entity_rank_idx",
            ),
            # Newest first, weekly counts, first and last seen.
            models.Index(
                "entity",
                models.F("published_at").desc(),
                models.F("article_id").desc(),
                name="mention_entity_date_idx",
            ),
            # No index on stars alone: rescoring sets them per story, against
            # each story's top score (entities/scoring.py).
        ]

    def __str__(self) -> str:
        return f"{self.entity} in #{self.article_id}"

    def save(self, *args, **kwargs):
        if self.published_at is None and self.article_id is not None:
            self.published_at = self.article.published_at
        super().save(*args, **kwargs)

    @property
    def score(self) -> float:
        """How much the story is about the entity and how distinctive the
        entity is (load with select_related("entity"))."""
        return self.salience * self.entity.specificity


class DuplicateCandidate(models.Model):
    """Two entities that may be one real thing, for an editor to decide
    (SPEC §10 review queue). Accepting merges them; a rejection is kept so
    the pair is never proposed again."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Merged"
        REJECTED = "rejected", "Kept apart"

    # A decided pair outlives the entity merged away (its name kept below), so
    # it stays listed under its decision.
    entity = models.ForeignKey(Entity, on_delete=models.SET_NULL, null=True, related_name="+")
    other = models.ForeignKey(Entity, on_delete=models.SET_NULL, null=True, related_name="+")
    entity_name = models.CharField(max_length=200, blank=True, default="")
    other_name = models.CharField(max_length=200, blank=True, default="")
    reason = models.CharField(max_length=200)
    evidence = models.JSONField(default=dict, blank=True)
    stories_affected = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "possible duplicate"
        verbose_name_plural = "possible duplicates"
        ordering = ["-stories_affected", "id"]
        permissions = [("decide_duplicatecandidate", "Can accept or reject possible duplicates")]
        constraints = [
            models.UniqueConstraint(fields=["entity", "other"], name="duplicate_unique_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.entity_label} / {self.other_label}?"

    @property
    def entity_label(self) -> str:
        return self.entity.name if self.entity else self.entity_name

    @property
    def other_label(self) -> str:
        return self.other.name if self.other else self.other_name


# --- accountability (SPEC §11) ---------------------------------------------------------------


class EntitySlug(models.Model):
    """An address an entity had before (a rename) or that a merged entity had:
    it answers with a permanent redirect to the entity's current page, so
    links in newsletters and feed readers keep working."""

    slug = models.SlugField(max_length=220, unique=True)
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="old_slugs")
    # The name of the entity merged into `entity` that had this address ("" after a rename).
    merged_from = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "old address"

    def __str__(self) -> str:
        return f"{self.slug} → {self.entity.slug}"


class ChangeQuerySet(models.QuerySet):
    def about_entity(self, entity_id: int) -> ChangeQuerySet:
        return self.filter(subjects__entity_id=entity_id).distinct()


class Change(models.Model):
    """One change to the entity graph: an editor's curation or a rule the
    corpus wrote or withdrew, with who (none: the system, with its
    evidence), when, before → after and the stories it touched. An undo is a
    change of its own, pointing at the one it undid."""

    class Action(models.TextChoices):
        MERGE = "merge", "Merged"
        BLOCK = "block", "Blocked"
        UNBLOCK = "unblock", "Unblocked"
        RENAME = "rename", "Renamed"
        RETYPE = "retype", "Type changed"
        ACCEPT = "accept", "Possible duplicate accepted"
        REJECT = "reject", "Possible duplicate kept apart"
        RULE_ADDED = "rule_added", "Rule written"
        RULE_REMOVED = "rule_removed", "Rule withdrawn"
        RULE_OFF = "rule_off", "Rule turned off"
        RULE_ON = "rule_on", "Rule turned on"
        NAME_BLOCKED = "name_blocked", "Name blocked"
        NAME_UNBLOCKED = "name_unblocked", "Name unblocked"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The editor's name, kept if their account is deleted ("" for the system).
    username = models.CharField(max_length=150, blank=True, default="")
    action = models.CharField(max_length=16, choices=Action.choices)
    summary = models.CharField(max_length=400)
    before = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    evidence = models.TextField(blank=True)
    stories = models.PositiveIntegerField(default=0, help_text="Stories touched.")
    # What an undo needs that before/after do not show (a merged entity's
    # mentions and aliases).
    restore = models.JSONField(default=dict, blank=True, editable=False, encoder=DjangoJSONEncoder)
    undo_of = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="undone_by"
    )

    objects = ChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("undo_change", "Can undo changes")]

    UNDOABLE = frozenset(
        {
            Action.MERGE,
            Action.ACCEPT,
            Action.REJECT,
            Action.BLOCK,
            Action.UNBLOCK,
            Action.RENAME,
            Action.RETYPE,
            Action.RULE_ADDED,
            Action.RULE_OFF,
            Action.RULE_ON,
        }
    )

    def __str__(self) -> str:
        return self.summary

    @property
    def can_be_undone(self) -> bool:
        """Not an undo itself, not undone yet (load with select_related("undone_by"))."""
        if self.action not in self.UNDOABLE or self.undo_of_id is not None:
            return False
        try:
            self.undone_by  # noqa: B018
        except Change.DoesNotExist:
            return True
        return False

    @property
    def who(self) -> str:
        return self.username or "the system"


class ChangeSubject(models.Model):
    """An entity a change is about. No database constraint: an entity merged
    away keeps its history, and finds it again when the merge is undone (it
    comes back under its own id)."""

    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="subjects")
    entity = models.ForeignKey(
        Entity, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["entity", "change"], name="change_subject_entity_idx")]

    def __str__(self) -> str:
        return f"change {self.change_id} about entity {self.entity_id}"
