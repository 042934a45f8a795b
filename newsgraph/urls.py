from django.contrib import admin
from django.urls import include, path

from newsgraph.views import health

admin.site.site_header = "newsgraph editors"
admin.site.site_title = "newsgraph"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("entities/", include("entities.urls")),
    path("", include("articles.urls")),
]
