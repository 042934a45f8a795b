from django.urls import path

from entities import views
from entities.feeds import EntityStoriesFeed

app_name = "entities"
urlpatterns = [
    path("<slug:slug>/", views.entity_detail, name="detail"),
    path("<slug:slug>/feed/", EntityStoriesFeed(), name="feed"),
]
