from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler

# Threads kept for the next requests once a burst is over; more are made while one lasts.
IDLE_REQUEST_THREADS = 32


class SyncViewsASGIHandler(ASGIHandler):
    """Django's ASGI handler for a project whose views and middleware are all synchronous.

    Django's own handler starts a thread for every request and joins it at the end, and in
    async mode it goes back to the event loop between the last middleware and the view, then
    into the thread again. Here a request's synchronous work runs on a thread kept from
    earlier requests (one request at a time on each, as in a threaded WSGI server), middleware
    and view in one hop. Requests are still read and answered on the event loop, so a slow
    client holds no thread. docs/benchmarks.md ("Webhooks") has the figures.
    """

    def __init__(self) -> None:
        super().__init__()
        self._idle_threads: list[ThreadPoolExecutor] = []

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)
        self._middleware_chain = sync_to_async(self._middleware_chain, thread_sensitive=True)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        thread = self._idle_threads.pop() if self._idle_threads else self._new_thread()
        try:
            # With an executor of its own, the context leaves it running on exit.
            async with ThreadSensitiveContext(executor=thread):
                await self.handle(scope, receive, send)
        finally:
            if len(self._idle_threads) < IDLE_REQUEST_THREADS:
                self._idle_threads.append(thread)
            else:
                thread.shutdown(wait=False)

    @staticmethod
    def _new_thread() -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")
