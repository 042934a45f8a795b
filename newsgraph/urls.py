from django.contrib import admin
from django.urls import include, path

from newsgraph.browse.api import api
from newsgraph.browse.urls import entity_urls, story_urls
from newsgraph.health import health

admin.site.site_header = "newsgraph editors"
admin.site.site_title = "newsgraph"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("api/", api.urls),
    path("entities/", include(entity_urls)),
    path("", include(story_urls)),
]
