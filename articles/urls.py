from django.urls import path

from articles import views

app_name = "articles"
urlpatterns = [
    path("", views.search, name="search"),
    path("search/", views.search, name="search-alt"),
    path("articles/<int:article_id>/", views.article_detail, name="detail"),
    path("suggest/", views.suggest, name="suggest"),
]
