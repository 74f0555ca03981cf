import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

# Django must be set up before anything imports models (the consumers do).
django.setup(set_prefix=False)

from helpdesk.handlers import SyncViewsASGIHandler  # noqa: E402

django_asgi_app = SyncViewsASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path, re_path  # noqa: E402

from chat.routing import CUSTOMER_ROUTE, customer_consumer  # noqa: E402
from chat.routing import websocket_urlpatterns as agent_chat_routes  # noqa: E402
from chat.security import WidgetOriginValidator  # noqa: E402
from tickets.routing import websocket_urlpatterns as desk_routes  # noqa: E402

# The workspace's sockets: Paydesk's own pages, signed in with their session cookie.
workspace = AllowedHostsOriginValidator(
    AuthMiddlewareStack(URLRouter([*agent_chat_routes, *desk_routes]))
)
# The chat widget's socket: merchants' pages may open it too; the customer proves who they are
# inside the socket (chat/consumers.py), so it needs no session.
widget = WidgetOriginValidator(customer_consumer)

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter([path(CUSTOMER_ROUTE, widget), re_path(r"^", workspace)]),
    }
)
