"""Checklist templates: list, detail, YAML export, import and edit (the whole file checked first)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from checklists import selectors, yaml_io
from checklists.forms import (
    TemplateFileForm,
)
from checklists.models import ChecklistTemplate
from migrations_app import access
from migrations_app.audit import Actor


@require_GET
@login_required
def template_list(request):
    access.require(request.user, "view")
    context = {
        "templates": selectors.templates_for_list(),
        "can_edit": access.can(request.user, "edit_templates"),
    }
    return render(request, "checklists/template_list.html", context)


@require_GET
@login_required
def template_detail(request, slug):
    access.require(request.user, "view")
    template = get_object_or_404(ChecklistTemplate, slug=slug)
    phases = template.phases.prefetch_related("sections__items").order_by("position")
    context = {
        "template": template,
        "phases": phases,
        "recurring": template.recurring.all(),
        "can_edit": access.can(request.user, "edit_templates"),
    }
    return render(request, "checklists/template_detail.html", context)


@require_GET
@login_required
def template_export(request, slug):
    access.require(request.user, "view")
    template = get_object_or_404(ChecklistTemplate, slug=slug)
    response = HttpResponse(yaml_io.export(template), content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{template.slug}.yaml"'
    return response


@require_http_methods(["GET", "POST"])
@login_required
def template_import(request):
    access.require(request.user, "edit_templates")
    return _template_file_page(request, template=None)


@require_http_methods(["GET", "POST"])
@login_required
def template_edit(request, slug):
    access.require(request.user, "edit_templates")
    template = get_object_or_404(ChecklistTemplate, slug=slug)
    return _template_file_page(request, template=template)


def _template_file_page(request, *, template):
    """Import a new template, or edit one as YAML: the whole file is checked before anything is saved."""
    initial = {"yaml_text": yaml_io.export(template)} if template else {}
    posted = request.method == "POST"
    form = TemplateFileForm(
        request.POST if posted else None, request.FILES if posted else None, initial=initial
    )
    problems = []
    if request.method == "POST" and form.is_valid():
        try:
            saved = yaml_io.import_text(
                form.cleaned_data["yaml_text"],
                by=Actor.for_user(request.user),
                expect_slug=template.slug if template else None,
            )
        except yaml_io.TemplateFileError as error:
            problems = error.problems
        else:
            messages.success(
                request, f"Saved the template {saved.name}. Running migrations keep their own copy."
            )
            return redirect(saved)
    status = 422 if form.is_bound else 200
    return render(
        request,
        "checklists/template_file.html",
        {"form": form, "template": template, "problems": problems},
        status=status,
    )
