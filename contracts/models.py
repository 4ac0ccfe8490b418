"""Organisations, the contracts between them, and the people who work on them."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from kpis.models import MeasureSet, Observation, TargetValues


class Organisation(models.Model):
    class Kind(models.TextChoices):
        COUNCIL = "council", "Council"
        PROVIDER = "provider", "Provider"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def measure_set_for(slug: str, name: str) -> MeasureSet:
    """The measure set a new contract takes: one of its slug loaded before it and not yet
    claimed by a contract, else a new one (unsaved) named after it, under its slug or,
    when that is taken, the first free ``<slug>-measures``, ``<slug>-measures-2``, ..."""
    unclaimed = MeasureSet.objects.filter(slug=slug, contract__isnull=True).first()
    if unclaimed is not None:
        return unclaimed
    candidate, number = slug, 1
    while MeasureSet.objects.filter(slug=candidate).exists():
        suffix = "-measures" if number == 1 else f"-measures-{number}"
        candidate, number = slug[: 100 - len(suffix)] + suffix, number + 1
    return MeasureSet(slug=candidate, name=f"{name}: contract measures"[:200])


class Contract(models.Model):
    """A council (the commissioner) commissions a provider; the contract points at its measures."""

    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=300)
    commissioner = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="commissioned_contracts"
    )
    provider = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="provided_contracts")
    start = models.DateField()
    end = models.DateField(null=True, blank=True)
    measure_set = models.OneToOneField(MeasureSet, on_delete=models.PROTECT, related_name="contract")
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.end and self.start and self.end < self.start:
            raise ValidationError({"end": "The contract cannot end before it starts."})
        if self.commissioner_id and self.commissioner_id == self.provider_id:
            raise ValidationError({"provider": "The provider must be another organisation."})
        errors = self.dates_past_data()
        if errors:
            raise ValidationError(errors)

    def dates_past_data(self) -> dict[str, str]:
        """A start after the period of its first return or figure, or an end before that
        of its last, each under its field: the contract's dates cannot move past the data
        it holds (a contract runs in the periods its dates overlap, as the month-end run
        counts them), so no verdict already given falls outside it (R15, R16)."""
        firsts: list[tuple[date, str]] = []  # (the period's last day, what it is)
        lasts: list[tuple[date, str]] = []  # (the period's first day, what it is)
        if self.pk:
            returns = MonthlyReturn.objects.filter(contract_id=self.pk)
            first = returns.order_by("period_end").first()
            if first is not None:
                firsts.append((first.period_end, f"its first monthly return, for {first.period},"))
                last = returns.order_by("-period_start").first()
                lasts.append((last.period_start, f"its last monthly return, for {last.period},"))
        if self.measure_set_id:
            figures = Observation.objects.filter(
                measure__measure_set_id=self.measure_set_id
            ).select_related("measure")
            first = figures.order_by("period_end").first()
            if first is not None:
                firsts.append(
                    (first.period_end, f"its first figure, {first.measure.code} for {first.period},")
                )
                last = figures.order_by("-period_start").first()
                lasts.append(
                    (last.period_start, f"its last figure, {last.measure.code} for {last.period},")
                )
        problems: dict[str, str] = {}
        if self.start and firsts:
            day, what = min(firsts)
            if self.start > day:
                problems["start"] = (
                    f"The contract cannot start on {self.start.isoformat()}: {what} ends on "
                    f"{day.isoformat()}, before it. Its dates cannot move past its data."
                )
        if self.end and lasts:
            day, what = max(lasts)
            if self.end < day:
                problems["end"] = (
                    f"The contract cannot end on {self.end.isoformat()}: {what} starts on "
                    f"{day.isoformat()}, after it. Its dates cannot move past its data."
                )
        return problems


class Role(models.TextChoices):
    PROVIDER_EDITOR = "provider_editor", "Provider editor"
    PROVIDER_LEAD = "provider_lead", "Provider lead"
    COMMISSIONER = "commissioner", "Commissioner"
    ADMIN = "admin", "Admin"
    READER = "reader", "Reader"
    OFFICER = "officer", "Council officer (retained services)"


# Roles that may see figures before they are official (R13).
DRAFT_VIEWERS = {Role.PROVIDER_EDITOR, Role.PROVIDER_LEAD, Role.COMMISSIONER, Role.ADMIN}


class Membership(models.Model):
    """A person works for one organisation in one role."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=30, choices=Role.choices)
    history = HistoricalRecords()

    class Meta:
        ordering = ["organisation", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.organisation})"


# --- The monthly return (issue: returns, narratives and sign-off) -----------------------


class ReturnState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    QUERIED = "queried", "Queried"
    SIGNED_OFF = "signed_off", "Signed off"


class MonthlyReturn(models.Model):
    """The provider's return for one contract and month: the figures reported in it (R13).

    Its state changes only through ``contracts.workflow``, which records every step.
    """

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="returns")
    period = models.CharField(max_length=7, help_text="The month, YYYY-MM.")
    period_start = models.DateField()
    period_end = models.DateField()
    state = models.CharField(max_length=20, choices=ReturnState.choices, default=ReturnState.DRAFT)
    due_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "-period_start"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "period"], name="return_period_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.contract} return for {self.period}"


class Entry(models.Model):
    """One measure due in a return: its figure (an Observation), and what the provider
    says about it: the reason for a variance or for a missing figure (R9).

    ``version`` implements optimistic locking: a save names the version it started
    from, and is refused if someone else saved in between.
    """

    monthly_return = models.ForeignKey(MonthlyReturn, on_delete=models.CASCADE, related_name="entries")
    measure = models.ForeignKey("kpis.Measure", on_delete=models.PROTECT, related_name="entries")
    period = models.CharField(max_length=20, help_text="The period the figure covers (R11).")
    observation = models.OneToOneField(
        "kpis.Observation", null=True, blank=True, on_delete=models.SET_NULL, related_name="entry"
    )
    variance_reason = models.TextField(blank=True, help_text="Why the measure misses target.")
    no_data_reason = models.TextField(blank=True, help_text="Why there is no figure.")
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["monthly_return", "measure__display_order", "measure__code"]
        verbose_name_plural = "entries"
        constraints = [
            models.UniqueConstraint(fields=["monthly_return", "measure"], name="entry_measure_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.measure.code} in {self.monthly_return}"


class Action(models.Model):
    """An assurance and improvement action (the reference's section 4)."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="actions")
    description = models.TextField()
    owner = models.CharField(max_length=200, blank=True)
    due_date = models.DateField(null=True, blank=True)
    recorded_without_owner = models.BooleanField(
        default=False,
        help_text="Historic actions recorded without an owner or due date; new actions need both.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["entry", "pk"]

    def __str__(self) -> str:
        return self.description[:80]


class Query(models.Model):
    """A commissioner's challenge on one measure, and the provider's answer."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="queries")
    comment = models.TextField()
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField()
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="Closed when the return is resubmitted.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["entry", "raised_at"]
        verbose_name_plural = "queries"

    def __str__(self) -> str:
        return f"Query on {self.entry.measure.code}"


class ReturnEvent(models.Model):
    """One step of a return's life: who, when, from which state to which, and why."""

    class Action(models.TextChoices):
        OPEN = "open", "Opened"
        SAVE = "save", "Figures saved"
        UPLOAD = "upload", "Spreadsheet uploaded"
        SUBMIT = "submit", "Submitted"
        QUERY = "query", "Queried"
        ANSWER = "answer", "Query answered"
        SIGN_OFF = "sign_off", "Signed off"
        REOPEN = "reopen", "Reopened"

    monthly_return = models.ForeignKey(MonthlyReturn, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    from_state = models.CharField(max_length=20, choices=ReturnState.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=ReturnState.choices)
    reason = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["monthly_return", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.monthly_return} at {self.at:%Y-%m-%d %H:%M}"


# --- Target revisions (R16) -------------------------------------------------------------


class TargetRevision(models.Model):
    """A set of new targets and tolerances for a contract, drafted by an admin with a
    rationale per line and approved by a commissioner; effective from a named month."""

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved"

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="target_revisions")
    title = models.CharField(max_length=200)
    effective_from = models.CharField(max_length=7, help_text="The first month it applies to, YYYY-MM.")
    effective_date = models.DateField()
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFT)
    rationale = models.TextField()
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    drafted_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "-effective_date"]

    def __str__(self) -> str:
        return f"{self.title} (from {self.effective_from})"


class TargetRevisionLine(TargetValues):
    """One measure's new target and tolerance in a revision, with why it changes."""

    revision = models.ForeignKey(TargetRevision, on_delete=models.CASCADE, related_name="lines")
    measure = models.ForeignKey("kpis.Measure", on_delete=models.PROTECT, related_name="+")
    rationale = models.TextField()
    confirmed_out_of_scale = models.BooleanField(
        default=False, help_text="The admin confirmed a target far outside the measure's history."
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["revision", "measure__display_order", "measure__code"]
        constraints = [
            models.UniqueConstraint(fields=["revision", "measure"], name="revision_measure_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.measure.code} in {self.revision}"


# --- Month-end: calendars, rating runs, prompts, notifications -------------------------


class ReportingCalendar(models.Model):
    """When a contract's returns open, fall due and are chased, in working days
    (England and Wales bank holidays excluded)."""

    contract = models.OneToOneField(Contract, on_delete=models.CASCADE, related_name="calendar")
    opens_on_day = models.PositiveSmallIntegerField(
        default=1, help_text="Day of the month the return for that month opens."
    )
    due_working_days = models.PositiveSmallIntegerField(
        default=10, help_text="Working days after the month ends that the return is due."
    )
    reminder_working_days = models.PositiveSmallIntegerField(
        default=3, help_text="Working days before the due date that the provider is reminded."
    )
    escalation_working_days = models.PositiveSmallIntegerField(
        default=1, help_text="Working days after the due date that a late return is escalated."
    )
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"Reporting calendar of {self.contract}"


class RatingRun(models.Model):
    """A month-end rating of every measure with the figures entered so far (R17).

    It freezes nothing: it records what the verdicts were at that time, for audit.
    """

    class Stage(models.TextChoices):
        MONTH_END = "month_end", "Month end"
        DUE_DATE = "due_date", "Due date"
        BY_HAND = "by_hand", "Run by hand"

    monthly_return = models.ForeignKey(MonthlyReturn, on_delete=models.CASCADE, related_name="rating_runs")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    run_at = models.DateTimeField()
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verdicts = models.JSONField(default=list, help_text="Per measure: code, period, value, status, reason.")
    missing = models.JSONField(default=list, help_text="Codes of measures with no figure yet.")

    class Meta:
        ordering = ["monthly_return", "run_at"]
        constraints = [
            # The scheduled stages run once per return; runs by hand may repeat.
            models.UniqueConstraint(
                fields=["monthly_return", "stage"],
                condition=~models.Q(stage="by_hand"),
                name="rating_run_stage_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} rating of {self.monthly_return}"


class NarrativePrompt(models.Model):
    """A narrative owed (R9) and not yet given, assigned to the provider."""

    entry = models.OneToOneField(Entry, on_delete=models.CASCADE, related_name="prompt")
    status = models.CharField(max_length=30, help_text="The verdict that owes the narrative.")
    created_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["entry"]

    def __str__(self) -> str:
        return f"Narrative owed for {self.entry}"


class Notification(models.Model):
    """A message to one person, shown in the app and sent by email through the outbox.

    ``key`` makes creation idempotent: the same event never notifies a person twice.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    key = models.CharField(max_length=200)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notification_once")]

    def __str__(self) -> str:
        return f"{self.subject} for {self.user}"


class ChaseEvent(models.Model):
    """A reminder or escalation sent for a return: at most one of each kind."""

    class Kind(models.TextChoices):
        REMINDER = "reminder", "Reminder before the due date"
        ESCALATION = "escalation", "Escalation after the due date"

    monthly_return = models.ForeignKey(MonthlyReturn, on_delete=models.CASCADE, related_name="chases")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["monthly_return", "kind"], name="chase_once")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.monthly_return}"


# --- Onboarding history (R14) ------------------------------------------------------------


class ImportBatch(models.Model):
    """Figures loaded from a file for past periods: drafts until a commissioner accepts
    the batch in one audited act, after which they count as official (R14)."""

    class State(models.TextChoices):
        PENDING = "pending", "Awaiting acceptance"
        ACCEPTED = "accepted", "Accepted"

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="import_batches")
    kind = models.CharField(max_length=30, help_text="The import kind, e.g. observations.")
    file_name = models.CharField(max_length=300)
    rows = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField()
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    observations = models.ManyToManyField("kpis.Observation", blank=True, related_name="import_batches")
    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "-uploaded_at"]
        verbose_name_plural = "import batches"

    def __str__(self) -> str:
        return f"{self.kind} from {self.file_name} ({self.get_state_display().lower()})"
