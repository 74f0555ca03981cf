from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.models import AGENT_KINDS


class PreferencesForm(forms.Form):
    email_kinds = forms.MultipleChoiceField(
        label=_("Also email me when"),
        choices=[(kind.value, kind.label) for kind in AGENT_KINDS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Your rating"),
        coerce=int,
        choices=[(n, str(n)) for n in range(5, 0, -1)],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Anything you want to tell us? (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
