"""What every page answers when a change is refused, in one wording, and "the partial for htmx,
or back to the page with the messages for a plain form post".

One wording: each message starts with the label of the field it is about ("Reason: say why the item
is not applicable."), as the form shows that label beside the field; a refusal about the whole
change is the message alone."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django import forms
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def field_label(name: str, form: forms.BaseForm | None = None) -> str:
    """The label a person sees for a field ("" for the whole form)."""
    if name == NON_FIELD_ERRORS:
        return ""
    field = form.fields.get(name) if form is not None else None
    if field is not None and field.label:
        return str(field.label)
    return name.replace("_", " ").capitalize()


def _sentences(errors_by_field: dict[str, list[str]], form: forms.BaseForm | None) -> list[str]:
    sentences = []
    for name, field_messages in errors_by_field.items():
        label = field_label(name, form)
        sentences += [f"{label}: {message}" if label else str(message) for message in field_messages]
    return sentences


def refusal_messages(error: ValidationError, form: forms.BaseForm | None = None) -> list[str]:
    """A service's ValidationError as sentences, each naming its field where it has one."""
    if hasattr(error, "error_dict"):
        return _sentences(error.message_dict, form)
    return [str(message) for message in error.messages]


def form_messages(form: forms.BaseForm) -> list[str]:
    """A bound form's errors as sentences, each naming its field."""
    return _sentences({name: list(errors) for name, errors in form.errors.items()}, form)


def put_refusal_on_form(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's refusal on the field it names (or on the form), so the page shows it there."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, field_messages in error.message_dict.items():
        form.add_error(name if name in form.fields else None, field_messages)


def partial_or_redirect(
    request,
    render_partial: Callable[[], HttpResponse],
    *,
    redirect_to,
    errors: Iterable[str] = (),
    notice: str = "",
) -> HttpResponse:
    """htmx swaps the partial in place; a plain form post (no JavaScript) goes back to the page,
    which shows the same errors and notice as messages."""
    if request.htmx:
        return render_partial()
    for error in errors:
        messages.error(request, error)
    if notice:
        messages.info(request, notice)
    return redirect(redirect_to)


def next_url(request, fallback: str) -> str:
    """Where a plain form post goes back to: its "next" field when it is a page of this site
    (never another host: an open redirect), else the fallback."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback
