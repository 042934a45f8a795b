"""New entities, inserted safely when several workers meet the same new name
at once (unique key and type; a slug clash falls back to a suffixed slug)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from entities.models import Entity, EntitySlug
from entities.normalize import name_key, surname_key


def create_entities(names: list[tuple[str, str]]) -> list[Entity]:
    """Insert new entities in one statement; a concurrent worker inserting the
    same name wins harmlessly (unique key+type), and a slug clash falls back to
    one-by-one creation with a suffixed slug."""
    new = [Entity(name=name, key=name_key(name), type=type_) for name, type_ in names]
    slugs = [slugify(e.name)[:200] or "entity" for e in new]
    taken = set(Entity.objects.filter(slug__in=set(slugs)).values_list("slug", flat=True))
    # An address another entity had still leads there (it redirects).
    taken.update(EntitySlug.objects.filter(slug__in=set(slugs)).values_list("slug", flat=True))
    unique = []
    for entity, slug in zip(new, slugs, strict=True):
        entity.surname_key = surname_key(entity.key, entity.type)
        if slug not in taken:
            entity.slug = slug
            taken.add(slug)
            unique.append(entity)
    Entity.objects.bulk_create(unique, ignore_conflicts=True)
    found = {
        (e.key, e.type): e
        for e in Entity.objects.with_keys(e.key for e in new).order_by("-story_count", "id")
    }
    created = []
    for entity in new:
        match = found.get((entity.key, entity.type)) or next(
            (e for (k, _), e in found.items() if k == entity.key), None
        )
        created.append(match or create_entity(name=entity.name, type_=entity.type))
    return created


def create_entity(*, name: str, type_: str) -> Entity:
    """Create, or fetch the one a concurrent worker just created."""
    key = name_key(name)
    for _ in range(3):
        try:
            with transaction.atomic():
                return Entity.objects.create(name=name, type=type_)
        except IntegrityError:
            found = Entity.objects.filter(key=key, type=type_).first()
            if found:
                return found
            # The slug was taken between checking and inserting: try again.
    raise RuntimeError(f"could not create entity {name!r}")
