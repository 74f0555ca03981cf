"""Admin pages of the chat: the knowledge base is edited here; conversations, their messages and
attachments are a record, shown but never changed (the chat's own services make every change,
so each one reaches the customer and the ticket's timeline)."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from chat.attachments import attachment_url
from chat.models import AgentPresence, Attachment, ChatMessage, Conversation, FaqArticle


class ReadOnlyAdminMixin:
    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(FaqArticle)
class FaqArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "language", "published", "updated_at"]
    list_editable = ["published"]
    list_filter = ["language", "published"]
    search_fields = ["title", "keywords", "body"]
    ordering = ["language", "title"]
    fields = ["language", "title", "keywords", "body", "published", "updated_at"]
    readonly_fields = ["updated_at"]
    actions = ["publish", "unpublish"]

    @admin.action(description=_("Publish the selected articles"))
    def publish(self, request: HttpRequest, queryset: QuerySet[FaqArticle]) -> None:
        self._set_published(request, queryset, True)

    @admin.action(description=_("Unpublish the selected articles"))
    def unpublish(self, request: HttpRequest, queryset: QuerySet[FaqArticle]) -> None:
        self._set_published(request, queryset, False)

    def _set_published(
        self, request: HttpRequest, queryset: QuerySet[FaqArticle], published: bool
    ) -> None:
        # Through save(), not update(): updated_at records the change.
        changed = 0
        for article in queryset.exclude(published=published):
            article.published = published
            article.save(update_fields=["published", "updated_at"])
            changed += 1
        self.message_user(
            request,
            ngettext("%d article changed.", "%d articles changed.", changed) % changed,
            messages.SUCCESS,
        )


class ChatMessageInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ChatMessage
    fields = ["seq", "created_at", "sender", "author", "body", "attachment", "article"]
    readonly_fields = fields
    ordering = ["seq"]
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChatMessage]:
        return super().get_queryset(request).select_related("author", "attachment", "article")


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "customer",
        "customer_email",
        "status",
        "team",
        "assignee",
        "verified",
        "rating",
        "language",
        "created_at",
        "last_message_at",
    ]
    list_filter = ["status", "verified", "team", "language", "rating"]
    list_select_related = ["customer", "team", "assignee"]
    search_fields = ["customer__email", "customer__name", "order_reference"]
    ordering = ["-created_at"]
    date_hierarchy = "created_at"
    inlines = [ChatMessageInline]
    fields = [
        "ticket_link",
        "customer",
        "team",
        "assignee",
        "status",
        "verified",
        "language",
        "order_reference",
        "attachment_count",
        "rating",
        "rating_comment",
        "rated_at",
        "created_at",
        "accepted_at",
        "last_message_at",
        "closed_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("email"), ordering="customer__email")
    def customer_email(self, conversation: Conversation) -> str:
        return conversation.customer.email

    @admin.display(description=_("ticket"))
    def ticket_link(self, conversation: Conversation) -> str:
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("tickets:detail", args=[conversation.ticket_id]),
            conversation.ticket,
            reverse("admin:tickets_ticket_change", args=[conversation.ticket_id]),
            _("in the admin"),
        )


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "content_type", "size", "uploaded_by", "conversation", "created_at"]
    list_filter = ["content_type", "uploaded_by"]
    list_select_related = ["conversation"]
    search_fields = ["name", "conversation__customer__email"]
    ordering = ["-created_at"]
    fields = [
        "file_link",
        "name",
        "content_type",
        "size",
        "uploaded_by",
        "conversation",
        "created_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("file"))
    def file_link(self, attachment: Attachment) -> str:
        return format_html('<a href="{}">{}</a>', attachment_url(attachment), attachment.name)


@admin.register(AgentPresence)
class AgentPresenceAdmin(admin.ModelAdmin):
    list_display = ["user", "status", "updated_at"]
    list_filter = ["status"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email"]
    readonly_fields = ["updated_at"]
