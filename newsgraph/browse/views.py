"""The pages that combine stories and entities: search, story, entity, suggestions.

Thin views: they validate GET parameters and call the page's selector.
"""

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from articles.models import Article
from entities import selectors as entity_selectors
from entities.models import Entity, EntityType
from newsgraph.browse import pages
from newsgraph.browse.atom import EntityStoriesFeed
from newsgraph.browse.cards import draw_cards
from newsgraph.browse.charts import weekly_chart
from newsgraph.browse.filters import SearchFilters
from newsgraph.browse.forms import EntityStoriesForm, SearchForm
from newsgraph.browse.search import search as search_stories
from newsgraph.browse.suggestions import suggestions


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    params = form.search_params()
    q, about = params.pop("q"), params.pop("about")
    filters = SearchFilters(**params)
    results = search_stories(
        q=q, filters=filters, page=request.GET.get("page", 1), about_order=about
    )
    draw_cards(results.page.object_list, about_order=about, entity_type=filters.entity_type)
    query = request.GET.copy()
    query.pop("page", None)
    toggle = query.copy()
    toggle.pop("about", None)
    return render(
        request,
        "articles/search.html",
        {
            "form": form,
            "results": results,
            "search_query": results.query,
            "page_obj": results.page,
            "about_order": about,
            "querystring": query.urlencode(),
            "about_querystring": toggle.urlencode(),
            "filters_open": filters.active,
        },
    )


@require_safe
def article_detail(request: HttpRequest, article_id: int) -> HttpResponse:
    try:
        article = pages.article_detail(article_id=article_id)
    except Article.DoesNotExist:
        raise Http404("No such story.") from None
    return render(request, "articles/detail.html", {"article": article})


@require_safe
def suggest(request: HttpRequest) -> JsonResponse:
    q = (request.GET.get("q") or "")[:100]
    kind = request.GET.get("type") or ""
    kind = kind if kind in EntityType.values else ""
    return JsonResponse({"results": suggestions(q, entity_type=kind)})


def _elsewhere(request: HttpRequest, slug: str, url_name: str) -> HttpResponse:
    """No entity shown at this address: an old one answers 301 to the
    entity's current one (a merged entity's: the survivor's), a blocked
    entity's 410 (SPEC §11)."""
    address = entity_selectors.entity_address(slug)
    if address.entity is None or not (address.gone or address.moved):
        raise Http404("No such entity.")
    if address.gone:
        return render(request, "entities/gone.html", {"entity": address.entity}, status=410)
    if address.moved:
        query = request.GET.urlencode()
        url = reverse(url_name, args=[address.entity.slug])
        return HttpResponsePermanentRedirect(f"{url}?{query}" if query else url)
    raise Http404("No such entity.")


@require_safe
def entity_feed(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        return EntityStoriesFeed()(request, slug=slug)
    except Http404:
        return _elsewhere(request, slug, "entities:feed")


@require_safe
def entity_detail(request: HttpRequest, slug: str) -> HttpResponse:
    entity = Entity.objects.visible().prefetch_related("aliases").filter(slug=slug).first()
    if entity is None:
        return _elsewhere(request, slug, "entities:detail")
    form = EntityStoriesForm(request.GET)
    order, about = "stars", "name"
    if form.is_valid():
        order = form.cleaned_data["order"] or "stars"
        about = form.cleaned_data["about"] or "name"
    page = pages.entity_stories(
        entity=entity, order=order, page=request.GET.get("page", 1), about_order=about
    )
    draw_cards(page.object_list, about_order=about)
    profile = entity_selectors.entity_profile(entity)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "entities/detail.html",
        {
            "entity": entity,
            # Maintained by rescoring, like the story count on the search page's
            # entity card: no recount of the entity's mentions per request.
            "span": entity_selectors.EntitySpan(
                stories=entity.story_count,
                first_seen=entity.first_seen,
                last_seen=entity.last_seen,
            ),
            "chart": weekly_chart(
                profile.weeks, title=f"Stories per week mentioning {entity.name}"
            ),
            "weeks": profile.weeks,
            "related": profile.related,
            "names_by_language": profile.names,
            "page_obj": page,
            "order": order,
            "about_order": about,
            "querystring": query.urlencode(),
        },
    )
