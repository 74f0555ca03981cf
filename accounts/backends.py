from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from asgiref.sync import sync_to_async
from django.contrib.auth.base_user import AbstractBaseUser

from accounts.selectors import users_with_account_state


class AuthenticationBackend(AllauthBackend):
    """allauth's backend (username or email, and password), loading the session's user with
    their profile and two-factor standing in the same query (see users_with_account_state)."""

    def get_user(self, user_id: object) -> AbstractBaseUser | None:
        user = users_with_account_state().filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

    async def aget_user(self, user_id: object) -> AbstractBaseUser | None:
        return await sync_to_async(self.get_user)(user_id)
