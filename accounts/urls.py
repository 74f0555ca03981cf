"""Paydesk's own account pages. allauth's (login, logout, password, two-factor) are mounted
next to these, under the same /accounts/ prefix, by helpdesk/urls.py."""

from django.urls import path
from django.views.generic import RedirectView

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("language/", views.set_language, name="set_language"),
    # The email address is edited on the profile page; allauth's page for managing several
    # addresses would be a second, different place to do it.
    path("email/", RedirectView.as_view(pattern_name="accounts:profile"), name="email"),
]
