"""The search box and the entity page's list controls: GET parameters, validated."""

from django import forms

from articles.models import Source
from articles.selectors import stored_languages
from entities.models import EntityType


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, strip=True)
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    source = forms.ModelChoiceField(
        queryset=Source.objects.all(), required=False, empty_label="Any source"
    )
    # Narrows the entities shown (card, about-lists, suggestions), not the stories.
    type = forms.ChoiceField(
        required=False,
        choices=[("", "All types"), *EntityType.choices],
        widget=forms.Select(attrs={"aria-describedby": "type-help"}),
    )
    language = forms.ChoiceField(required=False)
    about = forms.ChoiceField(
        required=False, choices=[("name", "A–Z"), ("stars", "Stars")], initial="name"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", "Any language"), *stored_languages()]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            # Reported, and the dates ignored; the other filters still apply.
            self.add_error(None, "The start date is after the end date.")
            cleaned.pop("date_from")
            cleaned.pop("date_to")
        return cleaned

    def search_params(self) -> dict:
        """The valid parameters; an invalid one is left out, not the rest with it.
        An over-long or odd `q` is passed on as typed (the selectors clean it)."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "q": data["q"] if "q" in data else (self.data.get("q") or "")[:200],
            "about": data.get("about") or "name",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "source": data.get("source"),
            "entity_type": data.get("type") or "",
            "language": data.get("language") or "",
        }


class EntityStoriesForm(forms.Form):
    order = forms.ChoiceField(
        required=False, choices=[("stars", "Most about it"), ("date", "Newest")]
    )
    about = forms.ChoiceField(required=False, choices=[("name", "A–Z"), ("stars", "Stars")])
