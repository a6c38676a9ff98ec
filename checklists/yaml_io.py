"""Checklist templates as YAML: strict parsing with line numbers, export, and all-or-nothing import.

The schema (the same file shape for built-ins, exports and imports):

    slug, name, description?
    phases: [{name, kind, signoff_roles?, sections: [{name, items: [{title, help?, required?,
              owner_role?, due_offset_days?, probe?}]}]}]
    recurring?: [{title, every, owner_role?, help?}]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction

from checklists.models import (
    ChecklistTemplate,
    Every,
    TemplateItem,
    TemplatePhase,
    TemplateRecurring,
    TemplateSection,
)
from checklists.services import default_signoff_roles
from migrations_app import audit
from migrations_app.audit import Actor
from migrations_app.models import SLUG_VALIDATOR, MigrationRoleName, PhaseKind

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin_templates"
MAX_BYTES = 512 * 1024


@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.message}"


class TemplateFileError(ValueError):
    """The file is not a valid template. Nothing was imported."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class _Checker:
    """Walks the composed YAML node tree, so every problem can name its line."""

    def __init__(self):
        self.problems: list[Problem] = []

    def fail(self, node, field: str, message: str) -> None:
        self.problems.append(Problem(node.start_mark.line + 1, field, message))

    def mapping(self, node, field: str, required: set[str], optional: set[str]) -> dict:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, field, "expected a mapping of keys to values")
            return {}
        values = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            where = f"{field}.{key}" if field else str(key)
            if key not in required | optional:
                allowed = ", ".join(sorted(required | optional))
                self.fail(key_node, where, f"unknown key “{key}” (allowed: {allowed})")
            elif key in values:
                self.fail(key_node, where, "appears twice")
            else:
                values[key] = value_node
        for key in sorted(required - set(values)):
            self.fail(node, f"{field}.{key}" if field else key, "is required")
        return values

    def sequence(self, node, field: str, *, allow_empty: bool = False) -> list:
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, field, "expected a list")
            return []
        if not node.value and not allow_empty:
            self.fail(node, field, "must not be empty")
        return node.value

    def text(self, node, field: str, *, max_length: int, required: bool = True) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag not in (
            "tag:yaml.org,2002:str",
            "tag:yaml.org,2002:int",
            "tag:yaml.org,2002:float",
        ):
            if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null" and not required:
                return ""
            self.fail(node, field, "expected text")
            return ""
        value = str(node.value).strip()
        if required and not value:
            self.fail(node, field, "must not be empty")
        if len(value) > max_length:
            self.fail(node, field, f"is longer than {max_length} characters")
        return value

    def boolean(self, node, field: str) -> bool:
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:bool":
            self.fail(node, field, "expected true or false")
            return True
        return node.value.lower() in ("true", "yes", "on")

    def integer(self, node, field: str) -> int | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:int":
            self.fail(node, field, "expected a whole number of days (negative = before go-live)")
            return None
        value = int(node.value)
        if not -3650 <= value <= 3650:
            self.fail(node, field, "must be within ten years of the go-live date")
        return value

    def choice(self, node, field: str, choices) -> str:
        value = self.text(node, field, max_length=40)
        if value and value not in choices.values:
            self.fail(node, field, f"“{value}” is not one of: {', '.join(choices.values)}")
        return value


def parse(text: str) -> dict:
    """Validate a template file and return it as plain data; raise TemplateFileError if anything is wrong."""
    if len(text.encode()) > MAX_BYTES:
        raise TemplateFileError([Problem(1, "file", f"is larger than {MAX_BYTES // 1024} KiB")])
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        raise TemplateFileError([Problem(line, "file", f"is not valid YAML: {error.problem}")]) from None
    except yaml.YAMLError as error:
        raise TemplateFileError([Problem(1, "file", f"is not valid YAML: {error}")]) from None
    if root is None:
        raise TemplateFileError([Problem(1, "file", "is empty")])
    c = _Checker()
    top = c.mapping(root, "", {"slug", "name", "phases"}, {"description", "recurring"})
    data: dict = {"phases": [], "recurring": []}
    if "slug" in top:
        data["slug"] = c.text(top["slug"], "slug", max_length=64)
        if data["slug"]:
            try:
                SLUG_VALIDATOR(data["slug"])
            except ValidationError:
                c.fail(top["slug"], "slug", "use lowercase letters, digits and hyphens only")
    if "name" in top:
        data["name"] = c.text(top["name"], "name", max_length=120)
    data["description"] = (
        c.text(top["description"], "description", max_length=5000, required=False)
        if "description" in top
        else ""
    )
    phase_nodes = c.sequence(top["phases"], "phases") if "phases" in top else []
    for p, phase_node in enumerate(phase_nodes):
        data["phases"].append(_phase(c, phase_node, f"phases[{p}]"))
    if data["phases"] and not c.problems:
        kinds = [phase["kind"] for phase in data["phases"]]
        if PhaseKind.DEPLOYMENT not in kinds:
            c.fail(
                top["phases"],
                "phases",
                "needs at least one phase of kind deployment (the go-live gate ends there)",
            )
    recurring_nodes = (
        c.sequence(top["recurring"], "recurring", allow_empty=True) if "recurring" in top else []
    )
    for r, node in enumerate(recurring_nodes):
        field = f"recurring[{r}]"
        values = c.mapping(node, field, {"title", "every"}, {"owner_role", "help"})
        data["recurring"].append(
            {
                "title": c.text(values["title"], f"{field}.title", max_length=300)
                if "title" in values
                else "",
                "every": c.choice(values["every"], f"{field}.every", Every) if "every" in values else "",
                "owner_role": c.choice(values["owner_role"], f"{field}.owner_role", MigrationRoleName)
                if "owner_role" in values
                else "",
                "help": c.text(values["help"], f"{field}.help", max_length=5000, required=False)
                if "help" in values
                else "",
            }
        )
    if c.problems:
        raise TemplateFileError(c.problems)
    return data


def _phase(c: _Checker, node, field: str) -> dict:
    values = c.mapping(node, field, {"name", "kind", "sections"}, {"signoff_roles"})
    phase = {
        "name": c.text(values["name"], f"{field}.name", max_length=80) if "name" in values else "",
        "kind": c.choice(values["kind"], f"{field}.kind", PhaseKind) if "kind" in values else "",
        "signoff_roles": None,
        "sections": [],
    }
    if "signoff_roles" in values:
        roles = []
        for r, role_node in enumerate(
            c.sequence(values["signoff_roles"], f"{field}.signoff_roles", allow_empty=True)
        ):
            role = c.choice(role_node, f"{field}.signoff_roles[{r}]", MigrationRoleName)
            if role in roles:
                c.fail(role_node, f"{field}.signoff_roles[{r}]", f"“{role}” is listed twice")
            roles.append(role)
        phase["signoff_roles"] = roles
    for s, section_node in enumerate(
        c.sequence(values["sections"], f"{field}.sections") if "sections" in values else []
    ):
        sfield = f"{field}.sections[{s}]"
        svalues = c.mapping(section_node, sfield, {"name", "items"}, set())
        section = {
            "name": c.text(svalues["name"], f"{sfield}.name", max_length=120) if "name" in svalues else "",
            "items": [],
        }
        for i, item_node in enumerate(
            c.sequence(svalues["items"], f"{sfield}.items") if "items" in svalues else []
        ):
            section["items"].append(_item(c, item_node, f"{sfield}.items[{i}]"))
        phase["sections"].append(section)
    return phase


def _item(c: _Checker, node, field: str) -> dict:
    values = c.mapping(node, field, {"title"}, {"help", "required", "owner_role", "due_offset_days", "probe"})
    return {
        "title": c.text(values["title"], f"{field}.title", max_length=300) if "title" in values else "",
        "help": c.text(values["help"], f"{field}.help", max_length=5000, required=False)
        if "help" in values
        else "",
        "required": c.boolean(values["required"], f"{field}.required") if "required" in values else True,
        "owner_role": c.choice(values["owner_role"], f"{field}.owner_role", MigrationRoleName)
        if "owner_role" in values
        else "",
        "due_offset_days": c.integer(values["due_offset_days"], f"{field}.due_offset_days")
        if "due_offset_days" in values
        else None,
        "probe": c.text(values["probe"], f"{field}.probe", max_length=40) if "probe" in values else "",
    }


# --- Saving ---------------------------------------------------------------------------------------


@transaction.atomic
def save_template(
    data: dict, *, by: Actor | None, builtin: bool = False, expect_slug: str | None = None
) -> ChecklistTemplate:
    """Create or wholly replace the template `data["slug"]` in one transaction.

    `expect_slug` (editing a template in the browser) refuses a file that renamed the slug."""
    if expect_slug is not None and data["slug"] != expect_slug:
        raise TemplateFileError([Problem(1, "slug", f"must stay “{expect_slug}” when editing this template")])
    template = ChecklistTemplate.objects.select_for_update().filter(slug=data["slug"]).first()
    created = template is None
    before = None if created else {"yaml": export(template)}
    if created:
        template = ChecklistTemplate(slug=data["slug"])
    template.name = data["name"]
    template.description = data["description"]
    template.builtin = builtin or (not created and template.builtin)
    template.save()
    template.phases.all().delete()
    template.recurring.all().delete()
    kinds = [p["kind"] for p in data["phases"]]
    first_deployment = kinds.index(PhaseKind.DEPLOYMENT) if PhaseKind.DEPLOYMENT in kinds else len(kinds)
    for p, phase_data in enumerate(data["phases"], start=1):
        roles = phase_data["signoff_roles"]
        if roles is None:
            roles = default_signoff_roles(phase_data["kind"], before_deployment=p - 1 < first_deployment)
        phase = TemplatePhase.objects.create(
            template=template,
            name=phase_data["name"],
            kind=phase_data["kind"],
            position=p,
            signoff_roles=roles,
        )
        for s, section_data in enumerate(phase_data["sections"], start=1):
            section = TemplateSection.objects.create(phase=phase, name=section_data["name"], position=s)
            TemplateItem.objects.bulk_create(
                TemplateItem(
                    section=section,
                    position=i,
                    title=item["title"],
                    help=item["help"],
                    required=item["required"],
                    owner_role=item["owner_role"],
                    due_offset_days=item["due_offset_days"],
                    probe_kind=item["probe"],
                )
                for i, item in enumerate(section_data["items"], start=1)
            )
    TemplateRecurring.objects.bulk_create(
        TemplateRecurring(template=template, position=r, **rule)
        for r, rule in enumerate(data["recurring"], start=1)
    )
    if by is not None:
        after = {"yaml": export(template)}
        if before != after:
            audit.record(
                by,
                "template.created" if created else "template.replaced",
                template,
                before=before,
                after=after,
            )
    return template


def import_text(
    text: str, *, by: Actor | None, builtin: bool = False, expect_slug: str | None = None
) -> ChecklistTemplate:
    return save_template(parse(text), by=by, builtin=builtin, expect_slug=expect_slug)


def load_builtin_templates(
    *, by: Actor | None = None, directory: Path = BUILTIN_DIR
) -> list[ChecklistTemplate]:
    """Load the shipped templates that are not in the database yet (admins' edits are kept)."""
    loaded = []
    for path in sorted(directory.glob("*.yaml")):
        data = parse(path.read_text(encoding="utf-8"))
        if not ChecklistTemplate.objects.filter(slug=data["slug"]).exists():
            loaded.append(save_template(data, by=by, builtin=True))
    return loaded


# --- Export -----------------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper, value: str):
    style = ">" if len(value) > 90 or "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def as_data(template: ChecklistTemplate) -> dict:
    data: dict = {"slug": template.slug, "name": template.name}
    if template.description:
        data["description"] = template.description
    data["phases"] = []
    for phase in template.phases.prefetch_related("sections__items").order_by("position"):
        sections = []
        for section in phase.sections.all():
            items = []
            for item in section.items.all():
                entry: dict = {"title": item.title}
                if item.help:
                    entry["help"] = item.help
                if not item.required:
                    entry["required"] = False
                if item.owner_role:
                    entry["owner_role"] = item.owner_role
                if item.due_offset_days is not None:
                    entry["due_offset_days"] = item.due_offset_days
                if item.probe_kind:
                    entry["probe"] = item.probe_kind
                items.append(entry)
            sections.append({"name": section.name, "items": items})
        data["phases"].append(
            {
                "name": phase.name,
                "kind": phase.kind,
                "signoff_roles": list(phase.signoff_roles),
                "sections": sections,
            }
        )
    recurring = []
    for rule in template.recurring.all():
        entry = {"title": rule.title, "every": rule.every}
        if rule.owner_role:
            entry["owner_role"] = rule.owner_role
        if rule.help:
            entry["help"] = rule.help
        recurring.append(entry)
    if recurring:
        data["recurring"] = recurring
    return data


def export(template: ChecklistTemplate) -> str:
    return yaml.dump(as_data(template), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
