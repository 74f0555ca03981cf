"""Which pages may open the chat widget's socket."""

from channels.security.websocket import AllowedHostsOriginValidator, OriginValidator
from django.conf import settings


class WidgetOriginValidator(OriginValidator):
    """Merchants' pages (CHAT_ALLOWED_ORIGINS) and Paydesk's own (ALLOWED_HOSTS); anything else
    is refused at the handshake. Read on each connection, so a changed setting applies."""

    def __init__(self, application) -> None:
        self.application = application

    @property
    def allowed_origins(self) -> list[str]:
        own = AllowedHostsOriginValidator(None).allowed_origins
        return [*settings.CHAT_ALLOWED_ORIGINS, *own]
