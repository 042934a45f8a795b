from django import forms

from articles.models import Source
from entities.models import EntityType


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, strip=True)
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    source = forms.ModelChoiceField(
        queryset=Source.objects.all(), required=False, empty_label="Any source"
    )
    type = forms.ChoiceField(required=False, choices=[("", "Any entity type"), *EntityType.choices])
    about = forms.ChoiceField(
        required=False, choices=[("name", "A–Z"), ("stars", "Stars")], initial="name"
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("The start date is after the end date.")
        return cleaned


class EntityStoriesForm(forms.Form):
    order = forms.ChoiceField(
        required=False, choices=[("stars", "Most about it"), ("date", "Newest")]
    )
    about = forms.ChoiceField(required=False, choices=[("name", "A–Z"), ("stars", "Stars")])


class AddByURLForm(forms.Form):
    url = forms.URLField(max_length=2000, assume_scheme="https")
