"""The product's URLs plus /bench/constant: the floor a Django view costs on this server."""

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as product


def constant(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/constant", constant), *product]
