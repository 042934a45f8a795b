from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from articles import selectors as article_selectors
from articles.forms import EntityStoriesForm
from entities import selectors
from entities.charts import weekly_chart
from entities.models import Entity


@require_GET
def entity_detail(request: HttpRequest, slug: str) -> HttpResponse:
    entity = get_object_or_404(Entity.objects.visible().prefetch_related("aliases"), slug=slug)
    form = EntityStoriesForm(request.GET)
    order, about = "stars", "name"
    if form.is_valid():
        order = form.cleaned_data["order"] or "stars"
        about = form.cleaned_data["about"] or "name"
    page = article_selectors.entity_stories(
        entity=entity, order=order, page=request.GET.get("page", 1), about_order=about
    )
    profile = selectors.entity_profile(entity)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "entities/detail.html",
        {
            "entity": entity,
            # Maintained by rescoring, like the story count on the search page's
            # entity card: no recount of the entity's mentions per request.
            "span": selectors.EntitySpan(
                stories=entity.story_count,
                first_seen=entity.first_seen,
                last_seen=entity.last_seen,
            ),
            "chart": weekly_chart(
                profile.weeks, title=f"Stories per week mentioning {entity.name}"
            ),
            "weeks": profile.weeks,
            "related": profile.related,
            "page_obj": page,
            "order": order,
            "about_order": about,
            "querystring": query.urlencode(),
        },
    )
