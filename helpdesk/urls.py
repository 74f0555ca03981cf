from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


# The admin signs in through allauth's login, so two-factor authentication applies there too.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="tickets:queue", permanent=False)),
    path("desk/chats/", include("chat.inbox_urls")),
    path("desk/dashboard/", include("dashboards.urls")),
    path("", include("notifications.urls")),
    path("desk/", include("tickets.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("webhooks/", include("payments.urls")),
    path("api/", include("tickets.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", health, name="health"),
    path("", include("chat.urls")),
]
