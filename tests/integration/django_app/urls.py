"""The test project's URLs: the admin, and the plain admin site of the negative control."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from tests.integration.django_app.admin import plain_site

urlpatterns = [path("admin/", admin.site.urls), path("plain/", plain_site.urls)]
