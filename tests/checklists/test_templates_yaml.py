import datetime as dt

import pytest

from checklists import services, yaml_io
from checklists.models import ChecklistTemplate, TemplateItem
from migrations_app.audit import Actor
from migrations_app.models import AuditEvent

SYSTEM = Actor.system("tests")
BUILTINS = sorted(p.stem for p in yaml_io.BUILTIN_DIR.glob("*.yaml"))

GOOD = """\
slug: small
name: Small release
phases:
  - name: Prep
    kind: preparation
    sections:
      - name: Config
        items:
          - title: Keys in the vault
            owner_role: deployment_lead
            due_offset_days: -3
  - name: Deploy
    kind: deployment
    signoff_roles: [deployment_lead]
    sections:
      - name: Switch
        items:
          - title: Flag on
"""


def test_the_five_builtin_templates_are_loaded(db):
    assert len(BUILTINS) == 5
    assert set(ChecklistTemplate.objects.filter(builtin=True).values_list("slug", flat=True)) == set(BUILTINS)


@pytest.mark.parametrize("slug", BUILTINS)
def test_export_then_import_gives_an_identical_template(db, slug):
    template = ChecklistTemplate.objects.get(slug=slug)
    before = yaml_io.as_data(template)
    text = yaml_io.export(template)
    ChecklistTemplate.objects.filter(slug=slug).delete()
    imported = yaml_io.import_text(text, by=SYSTEM)
    assert yaml_io.as_data(imported) == before
    assert yaml_io.export(imported) == text


@pytest.mark.parametrize("slug", BUILTINS)
def test_a_migration_can_be_created_from_each_builtin_template(db, ops, slug):
    template = ChecklistTemplate.objects.get(slug=slug)
    migration = services.create_migration_from_template(
        by=SYSTEM,
        template=template,
        name=slug,
        slug=f"m-{slug}"[:64],
        owner=ops,
        integration="x",
        target_date=dt.date(2031, 1, 1),
    )
    count = TemplateItem.objects.filter(section__phase__template=template).count()
    assert migration.checklist_items.count() == count > 20
    assert migration.phases.count() == template.phases.count()


def test_the_go_live_gate_asks_for_the_four_leads_by_default(db):
    template = yaml_io.import_text(GOOD.replace("slug: small", "slug: defaults"), by=SYSTEM)
    prep, deploy = template.phases.order_by("position")
    assert prep.signoff_roles == ["deployment_lead", "technical_lead", "product_manager", "qa_lead"]
    assert deploy.signoff_roles == ["deployment_lead"]


def test_importing_is_audited_and_reimporting_the_same_file_records_nothing(db):
    yaml_io.import_text(GOOD, by=SYSTEM)
    yaml_io.import_text(GOOD, by=SYSTEM)
    assert AuditEvent.objects.filter(action__startswith="template.").count() == 1


def _problems(text):
    with pytest.raises(yaml_io.TemplateFileError) as error:
        yaml_io.parse(text)
    return [(p.line, p.field) for p in error.value.problems], str(error.value)


def test_a_yaml_syntax_error_names_its_line(db):
    problems, message = _problems(GOOD.replace("  - name: Deploy", "  - name: [Deploy"))
    assert problems[0][1] == "file"
    assert problems[0][0] >= 12
    assert "not valid YAML" in message


def test_a_schema_error_names_the_line_and_field(db):
    problems, message = _problems(GOOD.replace("due_offset_days: -3", "due_offset_days: soon"))
    assert problems == [(11, "phases[0].sections[0].items[0].due_offset_days")]
    assert "line 11" in message


def test_unknown_keys_and_wrong_choices_are_errors(db):
    text = GOOD.replace(
        "            owner_role: deployment_lead", "            owner_role: cto\n            colour: red"
    )
    problems, message = _problems(text)
    assert (10, "phases[0].sections[0].items[0].owner_role") in problems
    assert (11, "phases[0].sections[0].items[0].colour") in problems
    assert "unknown key" in message


def test_missing_required_fields_are_reported(db):
    problems, _ = _problems("slug: x\nname: X\nphases:\n  - kind: preparation\n    sections: []\n")
    fields = [field for _, field in problems]
    assert "phases[0].name" in fields and "phases[0].sections" in fields


def test_a_broken_file_is_refused_whole_and_changes_nothing(db):
    template = ChecklistTemplate.objects.get(slug="payment-gateway-go-live")
    before = yaml_io.export(template)
    broken = before.replace("kind: testing", "kind: testing\n    extra: 1", 1)
    with pytest.raises(yaml_io.TemplateFileError):
        yaml_io.import_text(broken, by=SYSTEM)
    assert yaml_io.export(ChecklistTemplate.objects.get(slug=template.slug)) == before
    assert not AuditEvent.objects.filter(action__startswith="template.").exists()


def test_a_file_without_a_deployment_phase_is_refused(db):
    problems, message = _problems(GOOD.replace("kind: deployment", "kind: testing"))
    assert problems[0][1] == "phases"
    assert "deployment" in message


def test_loading_builtins_again_keeps_an_admins_edits(db):
    template = ChecklistTemplate.objects.get(slug="webhook-service-release")
    template.name = "Edited by an admin"
    template.save()
    assert yaml_io.load_builtin_templates() == []
    template.refresh_from_db()
    assert template.name == "Edited by an admin"
