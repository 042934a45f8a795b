from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from articles import selectors
from articles.forms import SearchForm
from articles.models import Article


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    params = form.search_params()
    q, about = params.pop("q"), params.pop("about")
    filters = selectors.SearchFilters(**params)
    results = selectors.search(
        q=q, filters=filters, page=request.GET.get("page", 1), about_order=about
    )
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


@require_GET
def article_detail(request: HttpRequest, article_id: int) -> HttpResponse:
    try:
        article = selectors.article_detail(article_id=article_id)
    except Article.DoesNotExist:
        raise Http404("No such story.") from None
    return render(request, "articles/detail.html", {"article": article})


@require_GET
def suggest(request: HttpRequest) -> JsonResponse:
    q = (request.GET.get("q") or "")[:100]
    entities = selectors.suggest_entities(q)
    return JsonResponse(
        {
            "results": [
                {
                    "name": e.name,
                    "type": e.type,
                    "type_label": e.get_type_display(),
                    "stories": e.story_count,
                    "url": e.get_absolute_url(),
                }
                for e in entities
            ]
        }
    )
