from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import pluralize
from django.utils.html import format_html, format_html_join
from django.utils.translation import ngettext

from entities import services, tasks
from entities.models import Alias, BlockedName, DuplicateCandidate, Entity, EntityType
from entities.proposals import EVIDENCE_CAP
from entities.services import CurationError, entity_change_type, entity_rename_check


def _check_rename(entity: Entity, name: str) -> None:
    """Renames run in the background: refuse in the form what the task would."""
    try:
        entity_rename_check(entity=entity, name=name)
    except CurationError as exc:
        raise ValidationError(str(exc)) from None


class AliasInline(admin.TabularInline):
    model = Alias
    extra = 1
    fields = ["name"]


class MergeForm(forms.Form):
    target = forms.ModelChoiceField(queryset=Entity.objects.none(), label="Merge into")

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

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("aliases")

    @admin.display(description="Aliases")
    def alias_list(self, entity: Entity) -> str:
        return ", ".join(a.name for a in entity.aliases.all())

    def save_model(self, request, obj, form, change):
        if change and "name" in form.changed_data:
            tasks.rename_entity.delay_on_commit(obj.pk, obj.name)
            obj.name = form.initial["name"]  # renamed by the task, keeping the old name as alias
        new_type = obj.type
        if change and "type" in form.changed_data:
            # Through the service: another entity of that name and type is merged
            # into, not a unique-constraint error.
            obj.type = form.initial["type"]
        super().save_model(request, obj, form, change)
        if change and "type" in form.changed_data:
            entity_change_type(entity_id=obj.pk, type_=new_type)
            tasks.rescore.delay_on_commit()

    def save_formset(self, request, form, formset, change):
        instances = formset.save()
        for alias in instances:
            tasks.apply_alias.delay_on_commit(alias.pk)

    def _intermediate(self, request, queryset, *, title, form, action, template):
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

    @admin.action(description="Merge selected entities into one", permissions=["change"])
    def merge(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        if queryset.count() < 2:
            self.message_user(request, "Select at least two entities to merge.", messages.WARNING)
            return None
        form = MergeForm(request.POST if "apply" in request.POST else None, entities=queryset)
        if form.is_valid():
            target = form.cleaned_data["target"]
            sources = [e.pk for e in queryset if e.pk != target.pk]
            tasks.merge_entities.delay_on_commit(target.pk, sources)
            self.message_user(
                request,
                ngettext(
                    "Merging %(count)d entity into “%(target)s”.",
                    "Merging %(count)d entities into “%(target)s”.",
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

    @admin.action(description="Block selected entities (junk)", permissions=["change"])
    def block(self, request: HttpRequest, queryset: QuerySet) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        tasks.block_entities.delay_on_commit(ids)
        self.message_user(request, f"Blocking {len(ids)} entities.", messages.SUCCESS)

    @admin.action(description="Unblock selected entities", permissions=["change"])
    def unblock(self, request: HttpRequest, queryset: QuerySet) -> None:
        ids = list(queryset.filter(blocked=True).values_list("pk", flat=True))
        tasks.unblock_entities.delay_on_commit(ids)
        self.message_user(request, f"Unblocking {len(ids)} entities.", messages.SUCCESS)

    @admin.action(description="Rename the selected entity", permissions=["change"])
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
            tasks.rename_entity.delay_on_commit(entity.pk, form.cleaned_data["name"])
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

    @admin.action(description="Change the type of selected entities", permissions=["change"])
    def change_type(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        form = ChangeTypeForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for entity in queryset:
                entity_change_type(entity_id=entity.pk, type_=form.cleaned_data["type"])
            tasks.rescore.delay_on_commit()
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

    def get_fields(self, request, obj=None):
        return self.fields if obj else ["name", "entity"]

    @admin.display(description="Evidence")
    def evidence_short(self, alias: Alias) -> str:
        return alias.evidence[:120]

    @admin.action(description="Undo: keep these names apart (turn the rules off)")
    def turn_off(self, request, queryset):
        self._set_active(request, queryset, active=False)

    @admin.action(description="Turn the rules back on")
    def turn_on(self, request, queryset):
        self._set_active(request, queryset, active=True)

    def _set_active(self, request, queryset, *, active: bool) -> None:
        ids = list(queryset.exclude(active=active).values_list("pk", flat=True))
        for alias_id in ids:
            tasks.set_alias_active.delay_on_commit(alias_id, active)
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
            tasks.set_alias_active.delay_on_commit(obj.pk, active)
            return
        obj.origin = Alias.Origin.EDITOR  # an editor's edit makes it theirs
        super().save_model(request, obj, form, change)
        tasks.apply_alias.delay_on_commit(obj.pk)

    # A deleted rule stops applying to stored stories too.
    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        tasks.apply_removed_rules.delay_on_commit([obj.name], [])

    def delete_queryset(self, request, queryset):
        names = list(queryset.values_list("name", flat=True))
        super().delete_queryset(request, queryset)
        tasks.apply_removed_rules.delay_on_commit(names, [])


@admin.register(BlockedName)
class BlockedNameAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        tasks.apply_blocked_name.delay_on_commit(obj.pk)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        tasks.apply_removed_rules.delay_on_commit([], [obj.name])

    def delete_queryset(self, request, queryset):
        names = list(queryset.values_list("name", flat=True))
        super().delete_queryset(request, queryset)
        tasks.apply_removed_rules.delay_on_commit([], names)


@admin.register(DuplicateCandidate)
class DuplicateCandidateAdmin(admin.ModelAdmin):
    """The review queue: pairs the corpus could not decide, most stories
    first. Accept merges them; reject keeps them apart for good."""

    list_display = ["pair", "reason", "stories_affected", "evidence_html", "status"]
    list_filter = ["status"]
    list_select_related = ["entity", "other"]
    search_fields = ["entity__name", "other__name"]
    actions = ["accept", "reject"]
    ordering = ["-stories_affected", "id"]
    readonly_fields = [
        "entity",
        "other",
        "reason",
        "evidence_html",
        "stories_affected",
        "status",
        "created_at",
        "decided_at",
    ]
    exclude = ["evidence"]

    def has_add_permission(self, request) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("entity", "other")

    @admin.display(description="Entities")
    def pair(self, candidate: DuplicateCandidate) -> str:
        return format_html(
            '<a href="{}">{}</a> ({} · {} stories) / <a href="{}">{}</a> ({} · {} stories)',
            candidate.entity.get_absolute_url(),
            candidate.entity.name,
            candidate.entity.get_type_display(),
            candidate.entity.story_count,
            candidate.other.get_absolute_url(),
            candidate.other.name,
            candidate.other.get_type_display(),
            candidate.other.story_count,
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

    @admin.action(description="Accept: merge each pair", permissions=["change"])
    def accept(self, request, queryset):
        ids = list(
            queryset.filter(status=DuplicateCandidate.Status.OPEN).values_list("pk", flat=True)
        )
        for candidate_id in ids:
            tasks.accept_duplicate.delay_on_commit(candidate_id)
        self.message_user(request, f"Merging {len(ids)} pair{pluralize(len(ids))}.")

    @admin.action(description="Reject: keep each pair apart", permissions=["change"])
    def reject(self, request, queryset):
        count = services.duplicates_reject(
            candidate_ids=list(queryset.values_list("pk", flat=True))
        )
        self.message_user(request, f"{count} pair{pluralize(count)} kept apart.")
