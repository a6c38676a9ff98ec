"""Probes and their results, pushed samples, KPIs with thresholds, guardrails and alerts.

Probe results and pushed samples are the raw data; KPIs aggregate them over a window; guardrails
watch KPIs and roll back when one stays past its critical threshold. Raw rows older than the
retention age are folded into per-minute rollups (see services.roll_up_old_data)."""

from __future__ import annotations

import datetime as dt

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from migrations_app.models import Migration
from migrations_app.monitoring.alert_models import AlertSource as AlertSource
from migrations_app.monitoring.alert_models import AlertStatus as AlertStatus
from migrations_app.monitoring.alert_models import ReceivedAlert as ReceivedAlert
from migrations_app.outbound import validate_outbound_url

METRIC_VALIDATOR = RegexValidator(
    r"^[a-z0-9][a-z0-9_.:-]{0,79}$",
    "Use 1-80 lowercase letters, digits, dots, colons, hyphens and underscores.",
)


class ProbeKind(models.TextChoices):
    # The values are the `probe:` names the checklist templates use.
    HTTP_HEALTH = "http_health", "HTTP health"
    AUTHENTICATED_CALL = "authenticated_call", "Authenticated call"
    JSON_METRIC = "json_metric", "JSON metric"
    TLS_CERTIFICATE = "tls_certificate", "TLS certificate"
    WEBHOOK_SIGNATURE = "webhook_signature", "Webhook signature check"
    SECURITY_HEADERS = "security_headers", "Security headers"
    PROMETHEUS = "prometheus", "Prometheus query"


class WebhookScheme(models.TextChoices):
    STRIPE = "stripe", "Stripe-style (t=…,v1=…)"
    STANDARD = "standard", "Standard Webhooks"


class Cohort(models.TextChoices):
    """Which path a sample or probe result belongs to; "" is fleet-wide (no cohort)."""

    FLEET = "", "Fleet-wide"
    OLD = "old", "Old path"
    NEW = "new", "New path"


class Probe(models.Model):
    """One check that a worker runs every `interval_seconds` against the new integration."""

    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="probes")
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=24, choices=ProbeKind.choices, default=ProbeKind.HTTP_HEALTH)
    url = models.URLField("URL", max_length=500, validators=[validate_outbound_url])
    method = models.CharField(max_length=7, default="GET", choices=[(m, m) for m in ("GET", "HEAD", "POST")])
    # Header values may contain ${NAME}: read from the worker's environment when the probe runs,
    # so the secret itself never reaches the database, a page or a log.
    headers = models.JSONField(default=dict, blank=True)
    expected_statuses = models.CharField(
        max_length=80, default="200", help_text="Comma-separated codes or classes, e.g. 200,204 or 2xx."
    )
    # [{"path": "status", "equals": "ok"}]: every listed field must have the given value.
    expected_json = models.JSONField(default=list, blank=True)
    json_path = models.CharField("JSONPath", max_length=200, blank=True, help_text="e.g. $.availableCredits")
    query = models.CharField("PromQL query", max_length=500, blank=True)
    secret_env = models.CharField(
        "signing secret variable",
        max_length=80,
        blank=True,
        help_text="Name of the worker's environment variable holding the webhook signing secret.",
    )
    webhook_scheme = models.CharField(
        max_length=10, choices=WebhookScheme.choices, default=WebhookScheme.STRIPE
    )
    min_days_valid = models.PositiveSmallIntegerField(
        default=14, help_text="TLS: fail when fewer days remain."
    )
    interval_seconds = models.PositiveIntegerField(
        default=30, validators=[MinValueValidator(1), MaxValueValidator(86400)]
    )
    timeout_seconds = models.FloatField(
        default=5.0, validators=[MinValueValidator(0.1), MaxValueValidator(60)]
    )
    enabled = models.BooleanField(default=True)
    # A probe bound to one path (e.g. the old provider's and the new provider's health endpoint):
    # its results carry that cohort, so compare guardrails can set the two side by side.
    path = models.CharField(
        max_length=3,
        choices=Cohort.choices,
        default=Cohort.FLEET,
        blank=True,
        help_text="Bind the probe to the old or the new path so its results compare; empty: fleet-wide.",
    )
    checklist_item_id = models.BigIntegerField(
        null=True, blank=True, help_text="Checklist item this probe ticks after enough passes in a row."
    )
    passes_to_tick = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1)])
    errors_to_page = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1)], help_text="Errors in a row that page the on-call."
    )
    # Scheduling and the probe list read these instead of scanning results.
    next_due_at = models.DateTimeField(null=True, blank=True)
    consecutive_passes = models.PositiveIntegerField(default=0)
    consecutive_errors = models.PositiveIntegerField(default=0)
    last_outcome = models.CharField(max_length=8, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_summary = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["migration", "name"]
        constraints = [models.UniqueConstraint(fields=["migration", "name"], name="probe_name_unique")]
        indexes = [models.Index(fields=["enabled", "next_due_at"], name="probe_due")]

    def __str__(self) -> str:
        return self.name

    @property
    def interval(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.interval_seconds)


class Outcome(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    # Timeouts, unreachable targets, garbage answers: counted as neither pass nor breach.
    ERROR = "error", "Error"


class ProbeResult(models.Model):
    # No index of their own: the unique (probe, due_at) and (migration, checked_at) lead with them,
    # and every extra index is paid on each of the ~1,000 inserts a second a worker makes.
    probe = models.ForeignKey(Probe, on_delete=models.CASCADE, related_name="results", db_index=False)
    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="+", db_index=False)
    due_at = models.DateTimeField()
    checked_at = models.DateTimeField()
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.FloatField(null=True, blank=True)
    value = models.FloatField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    traffic_percent = models.PositiveSmallIntegerField(default=0)
    # The probe's path when it ran (db_default: the one-statement insert names its columns).
    cohort = models.CharField(max_length=3, choices=Cohort.choices, default="", db_default="", blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["probe", "due_at"], name="probe_result_once_per_slot")]
        indexes = [
            models.Index(fields=["probe", "-checked_at"], name="probe_result_latest"),
            models.Index(fields=["migration", "checked_at"], name="probe_result_migration_at"),
        ]

    def __str__(self) -> str:
        return f"{self.probe_id} {self.outcome} at {self.checked_at:%H:%M:%S}"


class Sample(models.Model):
    """A number the application pushed: a value, or counters of successes and failures."""

    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="+")
    metric = models.CharField(max_length=80, validators=[METRIC_VALIDATOR])
    at = models.DateTimeField()
    value = models.FloatField(null=True, blank=True)
    ok = models.PositiveIntegerField(null=True, blank=True)
    failed = models.PositiveIntegerField(null=True, blank=True)
    traffic_percent = models.PositiveSmallIntegerField(default=0)
    # "new"/"old" when the application said so or golive derived it from a targeting key.
    cohort = models.CharField(max_length=3, choices=Cohort.choices, default="", db_default="", blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["migration", "metric", "at"], name="sample_metric_at"),
            # Compare guardrails read one cohort of one metric over a window.
            models.Index(fields=["migration", "metric", "cohort", "at"], name="sample_metric_cohort_at"),
        ]

    def __str__(self) -> str:
        return f"{self.metric} at {self.at:%H:%M:%S}"


class IngestBatch(models.Model):
    """One pushed batch of samples: its idempotency key (a retry stores nothing new) and whether
    its guardrail evaluation ran (a batch stored while the broker was down is evaluated by beat)."""

    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="+")
    idempotency_key = models.CharField(max_length=200, blank=True)
    stored = models.PositiveIntegerField()
    metrics = models.JSONField(default=list)
    received_at = models.DateTimeField()
    evaluated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["migration", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="ingest_batch_key_unique",
            )
        ]
        indexes = [
            models.Index(
                fields=["received_at"],
                condition=models.Q(evaluated_at__isnull=True),
                name="ingest_batch_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.stored} samples at {self.received_at:%H:%M:%S}"


class Rollup(models.Model):
    """Per-minute aggregate of raw results or samples older than the retention age.

    `source` is "probe:<id>" for probe results or the metric name for pushed samples."""

    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=90)
    minute = models.DateTimeField()
    traffic_percent = models.PositiveSmallIntegerField(default=0)
    count = models.PositiveIntegerField(default=0)
    ok = models.PositiveBigIntegerField(default=0)
    failed = models.PositiveBigIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    total = models.FloatField(default=0)  # sum of values (or latencies), for means
    valued = models.PositiveIntegerField(default=0)  # how many rows had a value
    p95 = models.FloatField(null=True, blank=True)
    last = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["migration", "source", "minute", "traffic_percent"], name="rollup_unique"
            )
        ]
        indexes = [models.Index(fields=["migration", "source", "minute"], name="rollup_source_minute")]

    def __str__(self) -> str:
        return f"{self.source} at {self.minute:%Y-%m-%d %H:%M}"


class Aggregation(models.TextChoices):
    RATE = "rate", "Success rate (%)"
    ERROR_RATE = "error_rate", "Error rate (%)"
    MEAN = "mean", "Mean"
    P50 = "p50", "Median (50th percentile)"
    P95 = "p95", "95th percentile"
    P99 = "p99", "99th percentile"
    LAST = "last", "Last value"
    COUNT = "count", "Count"


class Direction(models.TextChoices):
    HIGHER_IS_BETTER = "higher", "Higher is better (alert below the threshold)"
    LOWER_IS_BETTER = "lower", "Lower is better (alert at or above the threshold)"


class ProbeField(models.TextChoices):
    SUCCESS = "success", "pass/fail"
    LATENCY = "latency_ms", "latency (ms)"
    VALUE = "value", "measured value"


class Kpi(models.Model):
    """A number to watch: an aggregation of a probe's results or of a pushed metric over a window."""

    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="kpis")
    name = models.CharField(max_length=80)
    # Either a probe (and which of its numbers) or a pushed metric name.
    probe = models.ForeignKey(Probe, null=True, blank=True, on_delete=models.CASCADE, related_name="kpis")
    probe_field = models.CharField(max_length=12, choices=ProbeField.choices, default=ProbeField.SUCCESS)
    metric = models.CharField(max_length=80, blank=True, validators=[METRIC_VALIDATOR])
    aggregation = models.CharField(max_length=12, choices=Aggregation.choices, default=Aggregation.RATE)
    window_seconds = models.PositiveIntegerField(default=300, validators=[MinValueValidator(1)])
    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.HIGHER_IS_BETTER)
    warning = models.FloatField(null=True, blank=True)
    # Optional for a KPI that only a compare guardrail watches (it has no fixed threshold).
    critical = models.FloatField(null=True, blank=True)
    unit = models.CharField(max_length=12, blank=True, help_text="Shown after the value: %, ms, s, credits…")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["migration", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["migration", "name"], name="kpi_name_unique"),
            models.CheckConstraint(
                condition=models.Q(probe__isnull=False) | ~models.Q(metric=""), name="kpi_has_a_source"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def source_label(self) -> str:
        if self.probe_id:
            return f"probe “{self.probe.name}”, {self.get_probe_field_display()}"
        return f"metric {self.metric}"

    @property
    def threshold_label(self) -> str:
        if self.critical is None:
            return "no threshold (compared only)"
        sign = "≥" if self.direction == Direction.HIGHER_IS_BETTER else "<"
        unit = self.unit if self.unit in ("", "%") else f" {self.unit}"
        return f"{sign} {self.critical:g}{unit}"

    @property
    def critical_words(self) -> str:
        return self._level_words(self.critical)

    @property
    def warning_words(self) -> str:
        return self._level_words(self.warning)

    def _level_words(self, level: float | None) -> str:
        """Where a level lies, as kpis.level_of reads it: “below 90 %” for a higher-is-better KPI,
        “at or above 5 %” for a lower-is-better one (the settings table, so no sign to misread)."""
        if level is None:
            return ""
        side = "below" if self.direction == Direction.HIGHER_IS_BETTER else "at or above"
        unit = f" {self.unit}" if self.unit else ""
        return f"{side} {level:g}{unit}"


class GuardrailKind(models.TextChoices):
    THRESHOLD = "threshold", "KPI past its critical threshold"
    NO_DATA = "no_data", "No data for a period"
    BASELINE = "baseline", "Worse than the baseline"
    COMPARE = "compare", "New path worse than the old path"
    ALERT = "alert", "An alert from Prometheus/Grafana is firing"


class GuardrailAction(models.TextChoices):
    ALERT = "alert", "Alert only"
    PAUSE = "pause", "Pause the rollout"
    ROLLBACK = "rollback", "Roll back"


class Verdict(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    INCONCLUSIVE = "inconclusive", "Inconclusive"
    NO_DATA = "no_data", "No data"


class GuardrailState(models.TextChoices):
    HEALTHY = "healthy", "Healthy"
    WARNING = "warning", "Warning"
    BREACHED = "breached", "Breached"
    INSUFFICIENT_DATA = "insufficient_data", "Insufficient data"


class Guardrail(models.Model):
    """An automatic rule over one KPI, or (kind "alert") over the alerts Alertmanager or Grafana
    send. A firing "roll back" guardrail calls the same rollback as the button."""

    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="guardrails")
    name = models.CharField(max_length=80)
    # Every kind watches a KPI except "alert", which watches received alerts (the constraint below).
    kpi = models.ForeignKey(Kpi, null=True, blank=True, on_delete=models.CASCADE, related_name="guardrails")
    kind = models.CharField(max_length=10, choices=GuardrailKind.choices, default=GuardrailKind.THRESHOLD)
    action = models.CharField(max_length=8, choices=GuardrailAction.choices, default=GuardrailAction.ROLLBACK)
    consecutive = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1)],
        help_text="Breaching evaluations in a row before it fires.",
    )
    min_samples = models.PositiveIntegerField(
        default=3, help_text="Fewer samples in the window: insufficient data."
    )
    no_data_seconds = models.PositiveIntegerField(
        default=600, help_text="No-data rule: silence longer than this fires."
    )
    degradation_percent = models.FloatField(default=50, help_text="Baseline rule: this much worse fires.")
    baseline_value = models.FloatField(
        null=True, blank=True, help_text="Measured before the rollout started."
    )
    # Compare rule: how much worse the new path may be than the old, relative or in points.
    tolerance_percent = models.FloatField(
        null=True, blank=True, help_text="Compare rule: new at most this many percent worse than old."
    )
    tolerance_points = models.FloatField(
        null=True,
        blank=True,
        help_text="Compare rule: new at most this much worse than old (the KPI's unit).",
    )
    confidence = models.FloatField(
        default=95,
        validators=[MinValueValidator(50), MaxValueValidator(99.9)],
        help_text="Compare rule: confidence of the interval, in percent.",
    )
    # Alert rule: labels a received alert must all carry, e.g. {"alertname": "HighErrorRate"};
    # empty: any alert naming the migration.
    matchers = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    # The state machine's memory (see guardrails.step).
    state = models.CharField(
        max_length=20, choices=GuardrailState.choices, default=GuardrailState.INSUFFICIENT_DATA
    )
    breach_streak = models.PositiveIntegerField(default=0)
    fired = models.BooleanField(default=False)
    last_value = models.FloatField(null=True, blank=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)
    last_message = models.CharField(max_length=300, blank=True)
    last_verdict = models.CharField(max_length=12, choices=Verdict.choices, blank=True)

    class Meta:
        ordering = ["migration", "name"]
        constraints = [
            models.UniqueConstraint(fields=["migration", "name"], name="guardrail_name_unique"),
            models.CheckConstraint(
                condition=models.Q(kpi__isnull=False) | models.Q(kind="alert"),
                name="guardrail_kpi_unless_alert",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class GuardrailVerdict(models.Model):
    """One evaluation's verdict with its numbers, for the verdict history (pruned per guardrail)."""

    guardrail = models.ForeignKey(Guardrail, on_delete=models.CASCADE, related_name="verdicts")
    at = models.DateTimeField()
    verdict = models.CharField(max_length=12, choices=Verdict.choices)
    new = models.FloatField(null=True, blank=True)
    old = models.FloatField(null=True, blank=True)
    n_new = models.PositiveIntegerField(default=0)
    n_old = models.PositiveIntegerField(default=0)
    difference = models.FloatField(null=True, blank=True)
    low = models.FloatField(null=True, blank=True)
    high = models.FloatField(null=True, blank=True)
    message = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["guardrail", "-at", "-id"]
        indexes = [models.Index(fields=["guardrail", "-at"], name="verdict_guardrail_at")]

    def __str__(self) -> str:
        return f"{self.verdict} at {self.at:%H:%M:%S}"


class Alert(models.Model):
    """A notification golive sent (or decided not to repeat). The key de-duplicates repeats."""

    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=120)
    level = models.CharField(max_length=10)  # warning, critical, page
    message = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["migration", "key", "-created_at"], name="alert_key_recent")]

    def __str__(self) -> str:
        return f"{self.level}: {self.message}"
