from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


def sync_only(get_response: Callable[[HttpRequest], HttpResponse]):
    """A do-nothing synchronous middleware, last in MIDDLEWARE.

    Under ASGI, Django otherwise hops between threads around every async-capable middleware;
    one sync-only middleware at the end runs the whole chain in a single thread, which halves
    the CPU a webhook request costs.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        return get_response(request)

    return middleware
