"""Admin pages: every notification with its delivery state (failed ones can be sent again), the
customer emails with their wording per language and a preview, unsubscribed addresses and the
customers' ratings."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template import Context, Template
from django.utils import translation
from django.utils.html import escape, format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from notifications.emails import customer_text
from notifications.models import (
    AgentPreferences,
    CustomerEmail,
    CustomerEmailText,
    Notification,
    SatisfactionRating,
    Status,
    Unsubscribe,
)
from notifications.services import notification_retry
from notifications.texts import sample_customer_context


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "channel", "recipient", "status", "attempts", "sent_at",
                    "error_summary"]  # fmt: skip
    list_filter = ["status", "kind", "channel"]
    search_fields = ["email", "user__username", "user__email", "subject_ref", "=ticket__id"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    actions = ["send_again"]
    readonly_fields = [field.name for field in Notification._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("recipient"))
    def recipient(self, obj: Notification) -> str:
        return obj.user.get_username() if obj.user else obj.email

    @admin.display(description=_("error"))
    def error_summary(self, obj: Notification) -> str:
        return obj.last_error[:80]

    @admin.action(description=_("Send the selected failed notifications again"))
    def send_again(self, request: HttpRequest, queryset: QuerySet) -> None:
        retried = 0
        for notification in queryset.filter(status__in=(Status.FAILED, Status.SKIPPED)):
            notification_retry(notification)
            retried += 1
        self.message_user(request, _("%(count)d queued again.") % {"count": retried},
                          messages.SUCCESS)  # fmt: skip


class CustomerEmailTextForm(forms.ModelForm):
    class Meta:
        model = CustomerEmailText
        fields = ["language", "subject", "body"]

    def clean(self):
        cleaned = super().clean()
        language = cleaned.get("language") or settings.LANGUAGE_CODE
        with translation.override(language):
            context = Context(sample_customer_context(self.instance.email.kind), autoescape=False)
            for name in ("subject", "body"):
                # Rendered, not only compiled: a missing include or URL fails only then, and
                # would fail every email sent with this text.
                try:
                    Template(cleaned.get(name) or "").render(context)
                except Exception as error:
                    self.add_error(
                        name, _("This text does not render: %(error)s") % {"error": error}
                    )
        return cleaned


class CustomerEmailTextInline(admin.StackedInline):
    model = CustomerEmailText
    form = CustomerEmailTextForm
    extra = 0


@admin.register(CustomerEmail)
class CustomerEmailAdmin(admin.ModelAdmin):
    list_display = ["kind", "enabled", "languages"]
    list_editable = ["enabled"]
    inlines = [CustomerEmailTextInline]
    readonly_fields = ["kind", "preview"]
    fields = ["kind", "enabled", "preview"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # one per kind, made by the migration

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("own wording in"))
    def languages(self, obj: CustomerEmail) -> str:
        return ", ".join(obj.texts.values_list("language", flat=True)) or "—"

    @admin.display(description=_("preview (with made-up values; save to see your changes)"))
    def preview(self, obj: CustomerEmail) -> str:
        parts = []
        for code, name in settings.LANGUAGES:
            with translation.override(code):
                context = sample_customer_context(obj.kind)
                try:
                    subject, body = customer_text(obj.kind, code, context)
                except Exception as error:  # an admin's text that does not render
                    subject, body = "", f"{error}"
            direction = "rtl" if translation.get_language_info(code)["bidi"] else "ltr"
            # A rendered template comes back marked safe: escape it, it is text.
            parts.append((name, code, direction, " ".join(subject.split()), escape(body)))
        placeholders = ", ".join(f"{{{{ {key} }}}}" for key in sample_customer_context(obj.kind))
        return format_html(
            "{}<p>{}: <code>{}</code></p>",
            format_html_join(
                "",
                '<section class="email-preview" lang="{1}" dir="{2}"><h3>{0}</h3>'
                "<p><strong>{3}</strong></p>"
                '<pre style="white-space: pre-wrap">{4}</pre></section>',
                parts,
            ),
            _("Placeholders"),
            placeholders,
        )


@admin.register(Unsubscribe)
class UnsubscribeAdmin(admin.ModelAdmin):
    list_display = ["email", "created_at"]
    search_fields = ["email"]


@admin.register(SatisfactionRating)
class SatisfactionRatingAdmin(admin.ModelAdmin):
    list_display = ["ticket", "rating", "comment", "created_at"]
    list_filter = ["rating"]
    search_fields = ["=ticket__id", "comment"]
    readonly_fields = ["ticket", "rating", "comment", "created_at", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(AgentPreferences)
class AgentPreferencesAdmin(admin.ModelAdmin):
    list_display = ["user", "email_kinds"]
    search_fields = ["user__username"]
