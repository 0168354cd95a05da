from django.urls import path

from dashboard import consumers

websocket_urlpatterns = [
    path("ws/city/", consumers.CityConsumer.as_asgi()),
    path("ws/shelters/<int:shelter_id>/", consumers.ShelterConsumer.as_asgi()),
]
