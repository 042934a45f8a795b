"""A test-only URLconf: the site's URLs plus a page that inlines a script and
a style, as an escaping bug would, to show the policy blocks them."""

from django.http import HttpResponse
from django.templatetags.static import static
from django.urls import path

from newsgraph.urls import urlpatterns as site_urlpatterns


def injected(request):
    return HttpResponse(
        "<!doctype html><html lang='en'><head><title>probe</title>"
        f"<link rel='stylesheet' href='{static('css/newsgraph.css')}'>"
        "<style>body { background: rgb(255, 0, 0); }</style></head><body>"
        "<h1 id='probe'>probe</h1>"
        "<script>window.injectedRan = true; document.title = 'pwned';</script>"
        '<img src=x onerror="window.injectedRan = true">'
        "</body></html>"
    )


urlpatterns = [path("csp-probe/", injected), *site_urlpatterns]
