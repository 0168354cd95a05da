from django.urls import path

from surveys.follow_ups import views as follow_up_views

app_name = "follow_ups"

urlpatterns = [
    path("", follow_up_views.follow_up_list, name="list"),
    path("<int:follow_up_id>/", follow_up_views.follow_up_detail, name="detail"),
]
