"""How allauth behaves in Paydesk: no public sign-up, and no opting out of a required 2FA."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.http import HttpRequest

from accounts.models import SecurityPolicy


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Agents are created by admins, never by signing up."""
        return False


class MFAAdapter(DefaultMFAAdapter):
    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        """While the policy requires two-factor authentication, the authenticator app stays."""
        if authenticator.type == Authenticator.Type.TOTP:
            return not SecurityPolicy.objects.filter(require_two_factor=True).exists()
        return True
