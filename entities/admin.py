"""The entity admin (SPEC §4, §11): entities, rules, the review queue and the
history of changes. Every action and custom page checks its own permission
(`has_<x>_permission`, codenames in entities/models.py); every curation runs
in the background for the editor who asked, whose history entry names them;
each decision is queued through entities/decisions.py (saved first, applied
when the queue can take it)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.defaultfilters import pluralize
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import ngettext

from entities import services
from entities.decisions import queue_decision
from entities.history import acting_as
from entities.models import (
    Alias,
    BlockedName,
    Change,
    DuplicateCandidate,
    Entity,
    EntityType,
)
from entities.proposals import EVIDENCE_CAP
from entities.rescore_requests import schedule_rescore
from entities.services import CurationError, entity_change_type, entity_rename_check

HISTORY_ON_PAGE = 200


def _can(request: HttpRequest, codename: str) -> bool:
    return request.user.has_perm(f"entities.{codename}")


def _user_id(request: HttpRequest) -> int:
    return request.user.pk


def _check_rename(entity: Entity, name: str) -> None:
    """Renames run in the background: refuse in the form what the task would."""
    try:
        entity_rename_check(entity=entity, name=name)
    except CurationError as exc:
        raise ValidationError(str(exc)) from None


class AliasInline(admin.StackedInline):
    """Stacked, not tabular: each field has its own label (axe: label)."""

    model = Alias
    extra = 1
    fields = ["name"]


class MergeForm(forms.Form):
    target = forms.ModelChoiceField(
        queryset=Entity.objects.none(),
        label="Merge into",
        error_messages={"required": "Choose the entity to merge the others into."},
    )

    def __init__(self, *args, entities: QuerySet, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = entities


class RenameForm(forms.Form):
    name = forms.CharField(max_length=200, label="New canonical name")

    def __init__(self, *args, entity: Entity, **kwargs):
        super().__init__(*args, **kwargs)
        self.entity = entity

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        _check_rename(self.entity, name)
        return name


class EntityForm(forms.ModelForm):
    class Meta:
        model = Entity
        fields = ["name", "type"]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if self.instance.pk and name != self.instance.name:
            _check_rename(self.instance, name)
        return name


class ChangeTypeForm(forms.Form):
    type = forms.ChoiceField(choices=EntityType.choices)


def _selected(request: HttpRequest) -> list[str]:
    return request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME)


@admin.register(Entity)
class EntityAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "story_count", "alias_list", "blocked", "last_seen"]
    list_filter = ["type", "blocked"]
    search_fields = ["name", "aliases__name"]
    ordering = ["-story_count", "name"]
    readonly_fields = ["slug", "story_count", "specificity", "first_seen", "last_seen", "blocked"]
    fields = [
        "name",
        "type",
        "slug",
        "blocked",
        "story_count",
        "specificity",
        "first_seen",
        "last_seen",
    ]
    form = EntityForm
    inlines = [AliasInline]
    actions = ["merge", "block", "unblock", "rename", "change_type"]
    list_per_page = 50
    object_history_template = "admin/entities/entity/object_history.html"

    # --- permissions, one per action (SPEC §11) ---

    def has_merge_permission(self, request) -> bool:
        return _can(request, "merge_entity")

    def has_block_permission(self, request) -> bool:
        return _can(request, "block_entity")

    def has_rename_permission(self, request) -> bool:
        return _can(request, "rename_entity")

    def has_retype_permission(self, request) -> bool:
        return _can(request, "retype_entity")

    def get_readonly_fields(self, request, obj=None):
        """The change form edits the name and type only for those who may
        rename and change types."""
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and not self.has_rename_permission(request):
            fields.insert(0, "name")
        if obj is not None and not self.has_retype_permission(request):
            fields.insert(1, "type")
        return fields

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("aliases")

    @admin.display(description="Aliases")
    def alias_list(self, entity: Entity) -> str:
        return ", ".join(entity.known_as)  # the rules turned off no longer join

    def save_model(self, request, obj, form, change):
        if change and "name" in form.changed_data:
            queue_decision(request, "rename_entity", obj.pk, obj.name, _user_id(request))
            obj.name = form.initial["name"]  # renamed by the task, keeping the old name as alias
        new_type = obj.type
        if change and "type" in form.changed_data:
            # Through the service: another entity of that name and type is merged
            # into, not a unique-constraint error.
            obj.type = form.initial["type"]
        super().save_model(request, obj, form, change)
        if change and "type" in form.changed_data:
            with acting_as(_user_id(request)):
                entity_change_type(entity_id=obj.pk, type_=new_type)
            schedule_rescore()  # through the seam; bumps the page cache

    def save_formset(self, request, form, formset, change):
        instances = formset.save()
        for alias in instances:
            queue_decision(request, "apply_alias", alias.pk, _user_id(request))

    def history_view(self, request, object_id, extra_context=None):
        """The entity's changes (editors' and the system's), then the admin log."""
        changes = (
            list(
                Change.objects.about_entity(int(object_id))
                .select_related("user", "undone_by")
                .order_by("-created_at", "-id")[:HISTORY_ON_PAGE]
            )
            if object_id.isdigit()
            else []
        )
        return super().history_view(
            request,
            object_id,
            extra_context={
                **(extra_context or {}),
                "changes": changes,
                "changes_url": reverse("admin:entities_change_changelist")
                + f"?subjects__entity_id={object_id}",
            },
        )

    def _intermediate(self, request, queryset, *, title, form, action, template):
        if form.is_bound and not form.is_valid():
            self.message_user(request, "Please correct the errors below.", messages.ERROR)
        return render(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "title": title,
                "form": form,
                "entities": queryset,
                "action": action,
                "selected": _selected(request),
                "opts": self.model._meta,
            },
        )

    @admin.action(description="Merge selected entities into one", permissions=["merge"])
    def merge(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        if queryset.count() < 2:
            self.message_user(request, "Select at least two entities to merge.", messages.WARNING)
            return None
        form = MergeForm(request.POST if "apply" in request.POST else None, entities=queryset)
        if form.is_valid():
            target = form.cleaned_data["target"]
            sources = [e.pk for e in queryset if e.pk != target.pk]
            queue_decision(request, "merge_entities", target.pk, sources, _user_id(request))
            self.message_user(
                request,
                ngettext(
                    "Merging %(count)d entity into “%(target)s” in the background; "
                    "it shows in the history when done.",
                    "Merging %(count)d entities into “%(target)s” in the background; "
                    "it shows in the history when done.",
                    len(sources),
                )
                % {"count": len(sources), "target": target.name},
                messages.SUCCESS,
            )
            return None
        return self._intermediate(
            request,
            queryset,
            title="Merge entities",
            form=form,
            action="merge",
            template="admin/entities/action_form.html",
        )

    @admin.action(description="Block selected entities (junk)", permissions=["block"])
    def block(self, request: HttpRequest, queryset: QuerySet) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        with transaction.atomic():
            # The cheap part now (hidden from pages at once), the mentions and
            # blocked names by the worker.
            Entity.objects.filter(pk__in=ids).update(blocked=True)
            queue_decision(request, "block_entities", ids, _user_id(request))
        self.message_user(request, f"Blocking {len(ids)} entities.", messages.SUCCESS)

    @admin.action(description="Unblock selected entities", permissions=["block"])
    def unblock(self, request: HttpRequest, queryset: QuerySet) -> None:
        ids = list(queryset.filter(blocked=True).values_list("pk", flat=True))
        queue_decision(request, "unblock_entities", ids, _user_id(request))
        self.message_user(request, f"Unblocking {len(ids)} entities.", messages.SUCCESS)

    @admin.action(description="Rename the selected entity", permissions=["rename"])
    def rename(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one entity to rename.", messages.WARNING)
            return None
        entity = queryset.get()
        form = RenameForm(
            request.POST if "apply" in request.POST else None,
            initial={"name": entity.name},
            entity=entity,
        )
        if form.is_valid():
            queue_decision(
                request, "rename_entity", entity.pk, form.cleaned_data["name"], _user_id(request)
            )
            self.message_user(request, f"Renaming “{entity.name}”.", messages.SUCCESS)
            return None
        return self._intermediate(
            request,
            queryset,
            title=f"Rename {entity.name}",
            form=form,
            action="rename",
            template="admin/entities/action_form.html",
        )

    @admin.action(description="Change the type of selected entities", permissions=["retype"])
    def change_type(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        form = ChangeTypeForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for entity in queryset:
                with acting_as(_user_id(request)):
                    entity_change_type(entity_id=entity.pk, type_=form.cleaned_data["type"])
            schedule_rescore()  # through the seam; bumps the page cache
            self.message_user(request, "Types changed.", messages.SUCCESS)
            return None
        return self._intermediate(
            request,
            queryset,
            title="Change entity type",
            form=form,
            action="change_type",
            template="admin/entities/action_form.html",
        )


@admin.register(Alias)
class AliasAdmin(admin.ModelAdmin):
    """Rules: editors' own, and the corpus's automatic ones with their
    evidence (the audit log of automatic merges). Turning an automatic rule
    off undoes it in stored stories, and the corpus never writes it again."""

    list_display = [
        "name",
        "entity",
        "origin",
        "active",
        "confidence",
        "evidence_short",
        "created_at",
    ]
    list_filter = ["origin", "active"]
    search_fields = ["name", "entity__name"]
    autocomplete_fields = ["entity"]
    list_select_related = ["entity"]
    readonly_fields = ["origin", "confidence", "evidence", "created_at"]
    fields = ["name", "entity", "origin", "active", "confidence", "evidence", "created_at"]
    actions = ["turn_off", "turn_on"]
    date_hierarchy = "created_at"

    def has_toggle_permission(self, request) -> bool:
        return _can(request, "toggle_alias")

    def get_fields(self, request, obj=None):
        return self.fields if obj else ["name", "entity"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and not self.has_toggle_permission(request):
            fields.append("active")
        return fields

    @admin.display(description="Evidence")
    def evidence_short(self, alias: Alias) -> str:
        return alias.evidence[:120]

    @admin.action(
        description="Undo: keep these names apart (turn the rules off)", permissions=["toggle"]
    )
    def turn_off(self, request, queryset):
        self._set_active(request, queryset, active=False)

    @admin.action(description="Turn the rules back on", permissions=["toggle"])
    def turn_on(self, request, queryset):
        self._set_active(request, queryset, active=True)

    def _set_active(self, request, queryset, *, active: bool) -> None:
        ids = list(queryset.exclude(active=active).values_list("pk", flat=True))
        for alias_id in ids:
            queue_decision(request, "set_alias_active", alias_id, active, _user_id(request))
        state = "on" if active else "off"
        self.message_user(
            request,
            f"{len(ids)} rule{pluralize(len(ids))} turned {state}; stories are re-resolved.",
            messages.SUCCESS,
        )

    def save_model(self, request, obj, form, change):
        if change and "active" in form.changed_data:
            active = obj.active
            obj.active = not active  # the service flips it and re-resolves
            super().save_model(request, obj, form, change)
            queue_decision(request, "set_alias_active", obj.pk, active, _user_id(request))
            return
        obj.origin = Alias.Origin.EDITOR  # an editor's edit makes it theirs
        super().save_model(request, obj, form, change)
        queue_decision(request, "apply_alias", obj.pk, _user_id(request))

    # A deleted rule stops applying to stored stories too.
    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        queue_decision(request, "apply_removed_rules", [obj.name], [], _user_id(request))

    def delete_queryset(self, request, queryset):
        names = list(queryset.values_list("name", flat=True))
        super().delete_queryset(request, queryset)
        queue_decision(request, "apply_removed_rules", names, [], _user_id(request))


@admin.register(BlockedName)
class BlockedNameAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        queue_decision(request, "apply_blocked_name", obj.pk, _user_id(request))

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        queue_decision(request, "apply_removed_rules", [], [obj.name], _user_id(request))

    def delete_queryset(self, request, queryset):
        names = list(queryset.values_list("name", flat=True))
        super().delete_queryset(request, queryset)
        queue_decision(request, "apply_removed_rules", [], names, _user_id(request))


def _entity_link(entity: Entity | None, name: str) -> str:
    if entity is None:
        return format_html("{} (merged)", name)
    return format_html(
        '<a href="{}">{}</a> ({} · {} stories)',
        entity.get_absolute_url(),
        entity.name,
        entity.get_type_display(),
        entity.story_count,
    )


@admin.register(DuplicateCandidate)
class DuplicateCandidateAdmin(admin.ModelAdmin):
    """The review queue: pairs the corpus could not decide, most stories
    first. Accept merges them; reject keeps them apart for good. A decided
    pair stays listed under its decision."""

    list_display = ["pair", "reason", "stories_affected", "evidence_html", "status"]
    list_filter = ["status"]
    list_select_related = ["entity", "other"]
    search_fields = ["entity__name", "other__name", "entity_name", "other_name"]
    actions = ["accept", "reject"]
    ordering = ["-stories_affected", "id"]
    readonly_fields = [
        "pages",
        "reason",
        "evidence_html",
        "stories_affected",
        "status",
        "created_at",
        "decided_at",
    ]
    fields = readonly_fields
    change_form_template = "admin/entities/duplicatecandidate/change_form.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # decided by Accept and Reject, never edited

    def has_decide_permission(self, request) -> bool:
        return _can(request, "decide_duplicatecandidate")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("entity", "other")

    @admin.display(description="Entities")
    def pair(self, candidate: DuplicateCandidate) -> str:
        # Plain text: the column is the link to the pair's page.
        return f"{candidate.entity_label} / {candidate.other_label}"

    @admin.display(description="Entities")
    def pages(self, candidate: DuplicateCandidate) -> str:
        return format_html(
            "{} / {}",
            _entity_link(candidate.entity, candidate.entity_name),
            _entity_link(candidate.other, candidate.other_name),
        )

    @admin.display(description="Evidence")
    def evidence_html(self, candidate: DuplicateCandidate) -> str:
        evidence = candidate.evidence
        if "candidates" in evidence:  # a partial name the story's context could not place
            return format_html_join(
                "; ",
                "“{}” · {}: {} stories, {} sharing entities with the story",
                (
                    (evidence.get("surface", ""), c["name"], c["stories"], c["together"])
                    for c in evidence["candidates"]
                ),
            )
        detail = ", ".join(
            f"{key} {evidence[key]}"
            for key in ("similarity", "short", "initials", "rule", "confidence", "why")
            if key in evidence
        )
        counts = "; ".join(
            f"{name}: {n:,}{'+' if n >= EVIDENCE_CAP else ''} stories"
            for name, n in evidence.get("stories", {}).items()
        )
        return format_html(
            "{} · {} · {} together · types {}",
            detail,
            counts,
            evidence.get("together", 0),
            " / ".join(evidence.get("types", [])),
        )

    @admin.action(description="Accept: merge each pair", permissions=["decide"])
    def accept(self, request, queryset):
        ids = list(
            queryset.filter(status=DuplicateCandidate.Status.OPEN).values_list("pk", flat=True)
        )
        for candidate_id in ids:
            queue_decision(request, "accept_duplicate", candidate_id, _user_id(request))
        self.message_user(
            request, f"Merging {len(ids)} pair{pluralize(len(ids))} in the background."
        )

    @admin.action(description="Reject: keep each pair apart", permissions=["decide"])
    def reject(self, request, queryset):
        with acting_as(_user_id(request)):
            count = services.duplicates_reject(
                candidate_ids=list(queryset.values_list("pk", flat=True))
            )
        self.message_user(request, f"{count} pair{pluralize(count)} kept apart.")

    # --- the pair page's own buttons ---

    def get_urls(self):
        return [
            path(
                "<int:pk>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="entities_duplicatecandidate_decide",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return super().change_view(
            request,
            object_id,
            form_url,
            extra_context={
                **(extra_context or {}),
                "can_decide": self.has_decide_permission(request),
            },
        )

    def decide_view(self, request, pk: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405, headers={"Allow": "POST"})
        if not self.has_decide_permission(request):
            raise PermissionDenied
        candidate = get_object_or_404(DuplicateCandidate, pk=pk)
        queryset = DuplicateCandidate.objects.filter(pk=candidate.pk)
        if request.POST.get("decision") == "accept":
            self.accept(request, queryset)
        elif request.POST.get("decision") == "reject":
            self.reject(request, queryset)
        else:
            self.message_user(request, "Choose Accept or Reject.", messages.ERROR)
        return HttpResponseRedirect(reverse("admin:entities_duplicatecandidate_change", args=[pk]))


@admin.register(Change)
class ChangeAdmin(admin.ModelAdmin):
    """Every change to the entity graph, editors' and the system's, newest
    first; an editor may undo one from its page."""

    list_display = ["created_at", "who", "action", "summary", "stories", "undo_state"]
    list_filter = ["action", ("user", admin.RelatedOnlyFieldListFilter), "created_at"]
    search_fields = ["summary", "evidence"]
    list_select_related = ["user", "undone_by", "undo_of"]
    date_hierarchy = "created_at"
    fields = [
        "created_at",
        "who",
        "action",
        "summary",
        "before",
        "after",
        "evidence",
        "stories",
        "undo_state",
    ]
    readonly_fields = fields
    change_form_template = "admin/entities/change/change_form.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_undo_permission(self, request) -> bool:
        return _can(request, "undo_change")

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        # The entity's history page links here filtered to it.
        return lookup == "subjects__entity_id" or super().lookup_allowed(lookup, value, request)

    @admin.display(description="Who")
    def who(self, change: Change) -> str:
        return change.who

    @admin.display(description="Undo")
    def undo_state(self, change: Change) -> str:
        if change.undo_of_id:
            return f"undoes change {change.undo_of_id}"
        if change.can_be_undone:
            return "can be undone"
        if change.action in Change.UNDOABLE:
            return f"undone by change {change.undone_by.pk}"
        return "—"

    def get_urls(self):
        return [
            path(
                "<int:pk>/undo/",
                self.admin_site.admin_view(self.undo_view),
                name="entities_change_undo",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        change = Change.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        return super().change_view(
            request,
            object_id,
            form_url,
            extra_context={
                **(extra_context or {}),
                "can_undo": bool(change and change.can_be_undone)
                and self.has_undo_permission(request),
            },
        )

    def undo_view(self, request, pk: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405, headers={"Allow": "POST"})
        if not self.has_undo_permission(request):
            raise PermissionDenied
        change = get_object_or_404(Change.objects.select_related("undone_by"), pk=pk)
        try:
            services.change_undo_check(change=change)
        except CurationError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            queue_decision(request, "undo_change", change.pk, _user_id(request))
            self.message_user(
                request,
                f"Undoing “{change.summary}” in the background; the undo shows in the "
                "history when done.",
                messages.SUCCESS,
            )
        return HttpResponseRedirect(reverse("admin:entities_change_change", args=[pk]))
