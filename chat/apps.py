from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"

    def ready(self) -> None:
        from chat import checks, receivers  # noqa: F401  (registers checks and receivers)
