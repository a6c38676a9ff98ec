import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Cohorts on samples and probe results, probes bound to a path, compare guardrails with
    their verdict history, and a guardrail's `mode` (alert/rollback) becoming `action`
    (alert/pause/rollback): the rename keeps every existing value."""

    dependencies = [("monitoring", "0002_probe_result_fk_indexes")]

    operations = [
        migrations.RenameField("guardrail", "mode", "action"),
        migrations.CreateModel(
            name="GuardrailVerdict",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("at", models.DateTimeField()),
                (
                    "verdict",
                    models.CharField(
                        choices=[
                            ("pass", "Pass"),
                            ("fail", "Fail"),
                            ("inconclusive", "Inconclusive"),
                            ("no_data", "No data"),
                        ],
                        max_length=12,
                    ),
                ),
                ("new", models.FloatField(blank=True, null=True)),
                ("old", models.FloatField(blank=True, null=True)),
                ("n_new", models.PositiveIntegerField(default=0)),
                ("n_old", models.PositiveIntegerField(default=0)),
                ("difference", models.FloatField(blank=True, null=True)),
                ("low", models.FloatField(blank=True, null=True)),
                ("high", models.FloatField(blank=True, null=True)),
                ("message", models.CharField(blank=True, max_length=300)),
            ],
            options={
                "ordering": ["guardrail", "-at", "-id"],
            },
        ),
        migrations.AddField(
            model_name="guardrail",
            name="confidence",
            field=models.FloatField(
                default=95,
                help_text="Compare rule: confidence of the interval, in percent.",
                validators=[
                    django.core.validators.MinValueValidator(50),
                    django.core.validators.MaxValueValidator(99.9),
                ],
            ),
        ),
        migrations.AddField(
            model_name="guardrail",
            name="last_verdict",
            field=models.CharField(
                blank=True,
                choices=[
                    ("pass", "Pass"),
                    ("fail", "Fail"),
                    ("inconclusive", "Inconclusive"),
                    ("no_data", "No data"),
                ],
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="guardrail",
            name="tolerance_percent",
            field=models.FloatField(
                blank=True, help_text="Compare rule: new at most this many percent worse than old.", null=True
            ),
        ),
        migrations.AddField(
            model_name="guardrail",
            name="tolerance_points",
            field=models.FloatField(
                blank=True,
                help_text="Compare rule: new at most this much worse than old (the KPI's unit).",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="probe",
            name="path",
            field=models.CharField(
                blank=True,
                choices=[("", "Fleet-wide"), ("old", "Old path"), ("new", "New path")],
                default="",
                help_text="Bind the probe to the old or the new path so its results compare; empty: fleet-wide.",
                max_length=3,
            ),
        ),
        migrations.AddField(
            model_name="proberesult",
            name="cohort",
            field=models.CharField(
                blank=True,
                choices=[("", "Fleet-wide"), ("old", "Old path"), ("new", "New path")],
                db_default="",
                default="",
                max_length=3,
            ),
        ),
        migrations.AddField(
            model_name="sample",
            name="cohort",
            field=models.CharField(
                blank=True,
                choices=[("", "Fleet-wide"), ("old", "Old path"), ("new", "New path")],
                db_default="",
                default="",
                max_length=3,
            ),
        ),
        migrations.AlterField(
            model_name="guardrail",
            name="action",
            field=models.CharField(
                choices=[("alert", "Alert only"), ("pause", "Pause the rollout"), ("rollback", "Roll back")],
                default="rollback",
                max_length=8,
            ),
        ),
        migrations.AlterField(
            model_name="guardrail",
            name="kind",
            field=models.CharField(
                choices=[
                    ("threshold", "KPI past its critical threshold"),
                    ("no_data", "No data for a period"),
                    ("baseline", "Worse than the baseline"),
                    ("compare", "New path worse than the old path"),
                ],
                default="threshold",
                max_length=10,
            ),
        ),
        migrations.AlterField(
            model_name="kpi",
            name="aggregation",
            field=models.CharField(
                choices=[
                    ("rate", "Success rate (%)"),
                    ("error_rate", "Error rate (%)"),
                    ("mean", "Mean"),
                    ("p50", "Median (50th percentile)"),
                    ("p95", "95th percentile"),
                    ("p99", "99th percentile"),
                    ("last", "Last value"),
                    ("count", "Count"),
                ],
                default="rate",
                max_length=12,
            ),
        ),
        migrations.AlterField(
            model_name="kpi",
            name="critical",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="sample",
            index=models.Index(
                fields=["migration", "metric", "cohort", "at"], name="sample_metric_cohort_at"
            ),
        ),
        migrations.AddField(
            model_name="guardrailverdict",
            name="guardrail",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="verdicts",
                to="monitoring.guardrail",
            ),
        ),
        migrations.AddIndex(
            model_name="guardrailverdict",
            index=models.Index(fields=["guardrail", "-at"], name="verdict_guardrail_at"),
        ),
    ]
