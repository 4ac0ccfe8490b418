"""The monthly return's workflow (R9, R14, R15): the returns you may see with their
entries, changing an entry, and the steps (submit, query, answer, sign off, reopen).

Every return and entry is found through ``contracts.access`` (404 for what you may not
see, drafts only for those who see draft figures, R13), and every change goes through
``contracts.workflow``, which decides who may act and when, so the API answers with the
same rules and errors as the pages.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet, prefetch_related_objects
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.settings import api_settings

from contracts import access, workflow
from contracts.access import Do
from contracts.api.fields import (
    MAX_ID,
    STATUS_CHOICES,
    ExactDecimalField,
    StrictDateField,
    StrictDecimalField,
    checked,
    parse_month,
    validation_errors,
)
from contracts.api.schema import (
    AUTH_ERRORS,
    ID_KEY,
    NOT_SIGNED_IN,
    ErrorDetailSerializer,
    field_errors,
    id_parameter,
    list_errors,
    no_page,
)
from contracts.models import Action, Contract, Entry, MonthlyReturn, Query, ReturnState
from kpis import periods
from kpis.models import Flag

# What a return can owe (``workflow.OwedItem.kind``), documented for clients.
OWED_KINDS = [
    ("narrative", "the reason for a variance (R9)"),
    ("actions", "an assurance or improvement action with an owner and a due date (R9)"),
    ("no_data_reason", "the reason there is no figure (R9)"),
    ("cannot_rate", "nothing the provider can give: an admin must correct the definition (R9)"),
    ("answer", "an answer to a commissioner's open query"),
]
# The states in which the provider still owes something before submitting.
OWING_STATES = (ReturnState.DRAFT, ReturnState.QUERIED)


# --- documents -------------------------------------------------------------------------


class OwedItemSerializer(serializers.Serializer):
    entry = serializers.IntegerField(source="entry_id", help_text="The entry's id.")
    code = serializers.CharField(help_text="The measure's code.")
    kind = serializers.ChoiceField(choices=OWED_KINDS)
    message = serializers.CharField(help_text="What is owed, in one sentence fit to show.")


class EntryActionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Action
        fields = ["id", "description", "owner", "due_date", "recorded_without_owner"]


class EntryQuerySerializer(serializers.ModelSerializer):
    raised_by = serializers.CharField(
        source="raised_by.username", read_only=True, help_text="Who raised it (username)."
    )
    answered_by = serializers.CharField(
        source="answered_by.username",
        read_only=True,
        allow_null=True,
        help_text="Who answered it (username); null while unanswered.",
    )

    class Meta:
        model = Query
        fields = [
            "id",
            "comment",
            "raised_by",
            "raised_at",
            "answer",
            "answered_by",
            "answered_at",
            "closed_at",
        ]


class EntrySerializer(serializers.Serializer):
    """One measure due in a return: the figure as entered, the verdict it gets now, and
    what the provider says about it."""

    # Read from workflow.EntryStatus: the entry (with its figure) and its verdict.

    id = serializers.IntegerField(source="entry.pk")
    code = serializers.CharField(source="entry.measure.code")
    slug = serializers.CharField(source="entry.measure.slug")
    title = serializers.CharField(source="entry.measure.title")
    period = serializers.CharField(
        source="entry.period", help_text="The period the figure covers (R11)."
    )
    value = ExactDecimalField(
        source="entry.observation.value",
        allow_null=True,
        help_text="As entered; null when there is no figure.",
    )
    numerator = ExactDecimalField(source="entry.observation.numerator", allow_null=True)
    denominator = ExactDecimalField(source="entry.observation.denominator", allow_null=True)
    as_at = serializers.DateField(source="entry.observation.as_at", allow_null=True)
    flags = serializers.ListField(
        child=serializers.ChoiceField(choices=Flag.choices),
        source="entry.observation.flags",
        default=list,
    )
    note = serializers.CharField(source="entry.observation.note", default="")
    second_value = ExactDecimalField(source="entry.observation.second_value", allow_null=True)
    second_source = serializers.CharField(source="entry.observation.second_source", default="")
    status = serializers.ChoiceField(choices=STATUS_CHOICES, source="verdict.status")
    reason = serializers.CharField(
        source="verdict.reason", help_text="The verdict in one sentence."
    )
    variance_reason = serializers.CharField(
        source="entry.variance_reason", help_text="Why the measure misses target (R9)."
    )
    no_data_reason = serializers.CharField(
        source="entry.no_data_reason", help_text="Why there is no figure (R9)."
    )
    actions = EntryActionSerializer(source="entry.actions", many=True)
    queries = EntryQuerySerializer(source="entry.queries", many=True)
    version = serializers.IntegerField(
        source="entry.version",
        help_text="Send it back with a change: the change is refused (409) if someone saved "
        "the entry since.",
    )
    updated_by = serializers.CharField(
        source="entry.updated_by.username",
        allow_null=True,
        help_text="Who saved it last (username); null before anyone has.",
    )
    updated_at = serializers.DateTimeField(source="entry.updated_at")
    editable = serializers.SerializerMethodField(
        help_text="Whether you may change this entry now: your role edits entries, and the "
        "return is a draft, or queried and this measure is one of those queried."
    )

    def get_editable(self, status: workflow.EntryStatus) -> bool:
        editable_ids = self.context["editable_ids"]
        return self.context["may_edit"] and (
            editable_ids is None or status.entry.pk in editable_ids
        )


class ReturnSummarySerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:return-detail", lookup_url_kwarg="id")
    contract = serializers.SlugField(source="contract.slug", help_text="The contract's slug.")

    class Meta:
        model = MonthlyReturn
        fields = ["id", "url", "contract", "period", "state", "due_date"]


class ReturnSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    contract = serializers.SlugField(help_text="The contract's slug.")
    period = serializers.CharField(help_text="The month of the return, YYYY-MM.")
    state = serializers.ChoiceField(choices=ReturnState.choices)
    due_date = serializers.DateField(allow_null=True)
    owed = OwedItemSerializer(
        many=True,
        help_text="What must be given before the return can be submitted (R9), while it is "
        "draft or queried; empty otherwise.",
    )
    entries = EntrySerializer(many=True)


def _statuses(
    request: Request, monthly_return: MonthlyReturn
) -> tuple[list[workflow.EntryStatus], dict[str, Any]]:
    """The return's entries with their verdicts, and the context that says who may edit."""
    statuses = workflow.entry_statuses(monthly_return)
    # Who raised and answered each query: two queries in all, not two per query.
    prefetch_related_objects(
        [query for status in statuses for query in status.entry.queries.all()],
        "raised_by",
        "answered_by",
    )
    may_edit = access.may(request.user, Do.EDIT_ENTRIES, monthly_return.contract)
    context = {
        "request": request,
        "may_edit": may_edit,
        "editable_ids": workflow.editable_entry_ids(monthly_return) if may_edit else set(),
    }
    return statuses, context


def return_document(request: Request, monthly_return: MonthlyReturn) -> dict[str, Any]:
    """The return as the API shows it, in a fixed number of queries whatever its size."""
    statuses, context = _statuses(request, monthly_return)
    owing = monthly_return.state in OWING_STATES
    document = {
        "id": monthly_return.pk,
        "url": reverse("api:return-detail", kwargs={"id": monthly_return.pk}, request=request),
        "contract": monthly_return.contract.slug,
        "period": monthly_return.period,
        "state": monthly_return.state,
        "due_date": monthly_return.due_date,
        # What workflow.what_is_owed gives, read from the statuses already computed.
        "owed": [item for status in statuses for item in status.owed] if owing else [],
        "entries": statuses,
    }
    return ReturnSerializer(document, context=context).data


def entry_document(request: Request, entry: Entry) -> dict[str, Any]:
    """One entry as it is saved now, as it appears in its return's document."""
    monthly_return = MonthlyReturn.objects.select_related("contract").get(
        pk=entry.monthly_return_id
    )
    statuses, context = _statuses(request, monthly_return)
    (status,) = [s for s in statuses if s.entry.pk == entry.pk]
    return EntrySerializer(status, context=context).data


# --- requests --------------------------------------------------------------------------


class ReturnFilterSerializer(serializers.Serializer):
    contract = serializers.SlugField(
        required=False, help_text="Only this contract's returns (its slug)."
    )
    period = serializers.CharField(required=False, help_text="Only this month's, YYYY-MM.")
    state = serializers.ChoiceField(
        choices=ReturnState.choices, required=False, help_text="Only returns in this state."
    )

    def validate_contract(self, value: str) -> Contract:
        try:
            return access.contracts_for(self.context["request"].user).get(slug=value)
        except Contract.DoesNotExist:
            # The same words for a contract that does not exist and one you may not see.
            raise serializers.ValidationError(f"'{value}' is not a contract you may see.") from None

    def validate_period(self, value: str) -> periods.Period:
        return parse_month(value)


class ActionChangeSerializer(serializers.Serializer):
    """A new action (no `id`), a change to one (its `id`) or its deletion (`delete`).
    New and changed actions need a description, an owner and a due date."""

    id = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="An existing action's id; omit to add one.",
    )
    description = serializers.CharField(required=False, allow_blank=True)
    owner = serializers.CharField(required=False, allow_blank=True, max_length=200)
    due_date = StrictDateField(required=False, allow_null=True)
    delete = serializers.BooleanField(
        required=False, help_text="True deletes the action named by `id`."
    )


class EntryChangeSerializer(serializers.Serializer):
    """A change to an entry: the `version` it started from and only the fields to change."""

    version = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        help_text="The entry's `version` when you read it (optimistic locking).",
    )
    value = StrictDecimalField(help_text="A number (JSON number or string); null clears it.")
    numerator = StrictDecimalField()
    denominator = StrictDecimalField()
    as_at = StrictDateField(required=False, allow_null=True)
    flags = serializers.ListField(
        child=serializers.ChoiceField(choices=Flag.choices), required=False, allow_null=True
    )
    note = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    second_value = StrictDecimalField()
    second_source = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=300
    )
    variance_reason = serializers.CharField(required=False, allow_blank=True)
    no_data_reason = serializers.CharField(required=False, allow_blank=True)
    actions = ActionChangeSerializer(many=True, required=False)
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Why the change is made, kept in the return's history (say it when "
        "changing a reopened return).",
    )

    # A change names the version it started from, so ``version`` stays required though
    # the method is PATCH: drf-spectacular documents a PATCH body by setting ``partial``
    # (every field optional), which this serializer never is.
    @property
    def partial(self) -> bool:
        return False

    @partial.setter
    def partial(self, value: bool) -> None:
        pass


class NewQuerySerializer(serializers.Serializer):
    entry = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="The id of the entry queried."
    )
    comment = serializers.CharField(allow_blank=True, help_text="What the query is.")


class RaiseQueriesSerializer(serializers.Serializer):
    queries = NewQuerySerializer(many=True, help_text="One or more entries, each with a comment.")


class QueryAnswerSerializer(serializers.Serializer):
    query = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="The id of an open query."
    )
    answer = serializers.CharField(allow_blank=True)


class AnswerQueriesSerializer(serializers.Serializer):
    answers = QueryAnswerSerializer(many=True, help_text="One or more open queries, answered.")


class ReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Why the return is reopened (R15)."
    )


class BulkSignOffSerializer(serializers.Serializer):
    returns = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        allow_empty=False,
        max_length=200,
        help_text="The ids of the returns to sign off.",
    )


class BulkSignOffResultSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The return's id, as sent.")
    signed_off = serializers.BooleanField()
    message = serializers.CharField(help_text="What happened, or why it was refused.")


class BulkSignOffResultsSerializer(serializers.Serializer):
    results = BulkSignOffResultSerializer(many=True, help_text="One per id sent, in order.")


# --- errors ----------------------------------------------------------------------------


class WorkflowErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    field = serializers.CharField(
        required=False, help_text="The request field at fault, where there is one."
    )


class OwedErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    owed = OwedItemSerializer(many=True)


class EntryConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current = EntrySerializer(
        required=False, help_text="The entry as saved now (when someone saved since you read it)."
    )
    submitted = serializers.DictField(
        required=False, help_text="Your change exactly as you sent it, to compare and resend."
    )


RETURN_ID = "The return's id."
ENTRY_ID = "The entry's id, as in its return's `entries`."
NO_RETURN = OpenApiResponse(
    ErrorDetailSerializer,
    description="No such return, or one you may not see: another organisation's, or a "
    "return not yet signed off when you see official figures only.",
)
NO_ENTRY = OpenApiResponse(
    ErrorDetailSerializer, description="No such entry, or one in a return you may not see."
)
ROLE_REFUSED = OpenApiResponse(
    ErrorDetailSerializer,
    description="Not signed in, or your role may not do this on this contract.",
)
STATE_REFUSED = OpenApiResponse(
    ErrorDetailSerializer, description="The return's state does not allow this now."
)
REFUSED = OpenApiResponse(
    WorkflowErrorSerializer,
    description="The request breaks the return's rules (`field` names the part at fault), "
    "or its body is malformed (field errors).",
)
WRITE_ERRORS = {
    400: REFUSED,
    401: NOT_SIGNED_IN,
    403: ROLE_REFUSED,
    404: NO_RETURN,
    409: STATE_REFUSED,
}
RETURN_DESCRIPTION = (
    "Answers with the return afterwards. Refusals: 404 for a return you may not see, 403 "
    "when your role may not do this, 409 when the return's state does not allow it."
)


def _refused(body: type[serializers.Serializer], description: str) -> OpenApiResponse:
    """A 400 that is either a rule's refusal (``detail``, and ``field`` where there is one)
    or the body's field errors: any of the two shapes (a refusal would also pass for field
    errors, so not exactly one of them)."""
    messages = {"type": "array", "items": {"type": "string"}}
    nested = {"oneOf": [messages, {"type": "object", "additionalProperties": {}}]}
    refusal = {
        "type": "object",
        "properties": {
            "detail": {"type": "string"},
            "field": {"type": "string", "description": "The request field at fault, if any."},
        },
        "required": ["detail"],
    }
    fields = body().fields
    by_field = {
        "type": "object",
        "properties": {
            **{
                name: nested
                if isinstance(field, serializers.BaseSerializer | serializers.ListField)
                else messages
                for name, field in fields.items()
            },
            api_settings.NON_FIELD_ERRORS_KEY: messages,
        },
    }
    return OpenApiResponse(
        {"anyOf": [refusal, by_field]},
        description=description,
    )


def step(
    summary: str,
    description: str,
    body: type[serializers.Serializer] | None = None,
    refusal: OpenApiResponse | None = None,
) -> Any:
    """The schema of a step of a return's workflow (``returns/<id>/<step>/``), answered
    with the return afterwards. Its 400 is ``refusal``, or else the step's rule or the
    ``body``'s field errors."""
    return extend_schema(
        summary=summary,
        description=f"{description} {RETURN_DESCRIPTION}",
        parameters=[id_parameter(RETURN_ID)],
        request=body,
        responses={
            200: ReturnSerializer,
            **WRITE_ERRORS,
            400: refusal if refusal is not None else _refused(body, REFUSED.description),
        },
    )


# --- views -----------------------------------------------------------------------------


class WorkflowViewSet(viewsets.GenericViewSet):
    """Returns and entries, keyed by id, turning the workflow's refusals into HTTP answers
    the same way for every endpoint."""

    lookup_url_kwarg = "id"
    lookup_value_regex = ID_KEY
    filter_backends: list[Any] = []

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, workflow.Owed):
            owed = OwedItemSerializer(exc.items, many=True).data
            return Response({"detail": exc.message, "owed": owed}, status=exc.status)
        if isinstance(exc, workflow.WorkflowError):
            body = {"detail": exc.message}
            if exc.detail.get("field"):
                body["field"] = exc.detail["field"]
            return Response(body, status=exc.status)
        if isinstance(exc, DjangoValidationError):
            return Response(validation_errors(exc), status=400)
        return super().handle_exception(exc)


@extend_schema(tags=["returns"])
class ReturnViewSet(WorkflowViewSet):
    """The monthly returns you may see, and the steps of their workflow (R9, R14, R15)."""

    serializer_class = ReturnSummarySerializer

    def get_queryset(self) -> QuerySet[MonthlyReturn]:
        return access.returns_for(self.request.user).order_by("contract__slug", "-period_start")

    def _visible(self) -> MonthlyReturn:
        return access.return_for(self.request.user, self.kwargs["id"])

    def _document(self) -> Response:
        """The return as it is now (after the step just taken)."""
        return Response(return_document(self.request, self._visible()))

    @extend_schema(
        summary="Returns you may see",
        description="Newest month first within each contract. Provider staff, commissioners "
        "and admins see returns in every state; readers and officers only signed-off ones.",
        parameters=[ReturnFilterSerializer],
        responses={
            200: ReturnSummarySerializer(many=True),
            400: list_errors(
                "ReturnFilterErrors",
                ReturnFilterSerializer().fields,
                "A filter's value is not one the filter takes.",
            ),
            **AUTH_ERRORS,
            404: no_page(),
        },
    )
    def list(self, request: Request) -> Response:
        wanted = checked(ReturnFilterSerializer, request.query_params, context={"request": request})
        returns = self.get_queryset()
        if "contract" in wanted:
            returns = returns.filter(contract=wanted["contract"])
        if "period" in wanted:
            returns = returns.filter(period=wanted["period"].label)
        if "state" in wanted:
            returns = returns.filter(state=wanted["state"])
        page = self.paginate_queryset(returns)
        serializer = ReturnSummarySerializer(page, many=True, context={"request": request})
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        summary="One return",
        description="The return with every entry: its figure, verdict (R1), narrative, "
        "actions and queries, its `version` (send it back with a change) and whether you may "
        "change it now; and, while draft or queried, what is still owed before it can be "
        "submitted (R9).",
        parameters=[id_parameter(RETURN_ID)],
        responses={200: ReturnSerializer, **AUTH_ERRORS, 404: NO_RETURN},
    )
    def retrieve(self, request: Request, **kwargs: Any) -> Response:
        return self._document()

    @step(
        "Submit (provider lead)",
        "Draft or queried -> submitted, refused while anything is owed (R9): the 400 lists "
        "exactly what. Submitting closes the answered queries.",
        refusal=OpenApiResponse(OwedErrorSerializer, description="Something is still owed."),
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, **kwargs: Any) -> Response:
        workflow.submit(self._visible().pk, request.user)
        return self._document()

    @step(
        "Query measures (commissioner)",
        "Submitted -> queried: challenge one or more measures, each with a comment. The "
        "provider may then change only the queried measures.",
        RaiseQueriesSerializer,
    )
    @action(detail=True, methods=["post"])
    def query(self, request: Request, **kwargs: Any) -> Response:
        pk = self._visible().pk
        body = checked(RaiseQueriesSerializer, request.data)
        queries = [(q["entry"], q["comment"]) for q in body["queries"]]
        workflow.raise_query(pk, request.user, queries)
        return self._document()

    @step(
        "Answer queries (provider)",
        "Answer open queries by their ids while the return is queried; resubmitting closes them.",
        AnswerQueriesSerializer,
    )
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, **kwargs: Any) -> Response:
        pk = self._visible().pk
        body = checked(AnswerQueriesSerializer, request.data)
        answers = [(a["query"], a["answer"]) for a in body["answers"]]
        workflow.answer_queries(pk, request.user, answers)
        return self._document()

    @step(
        "Sign off (commissioner)",
        "Submitted -> signed off: the return freezes and its figures become official (R14). "
        "Refused (400, with `owed`) while a measure cannot be rated.",
        refusal=OpenApiResponse(OwedErrorSerializer, description="A measure cannot be rated (R9)."),
    )
    @action(detail=True, methods=["post"], url_path="sign-off", url_name="sign-off")
    def sign_off(self, request: Request, **kwargs: Any) -> Response:
        workflow.sign_off(self._visible().pk, request.user)
        return self._document()

    @step(
        "Reopen (commissioner)",
        "Signed off -> draft, only with a reason (R15). Its figures are draft again until it "
        "is signed off once more; every version stays in the history.",
        ReopenSerializer,
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, **kwargs: Any) -> Response:
        pk = self._visible().pk
        body = checked(ReopenSerializer, request.data)
        workflow.reopen(pk, request.user, body["reason"])
        return self._document()

    @extend_schema(
        operation_id="v1_returns_bulk_sign_off_create",
        summary="Sign off several returns (commissioner)",
        description="Each return is signed off on its own: one refusal stops no other. "
        "Always 200, with a result per id sent; a return you may not see reads "
        "'No such return.'",
        request=BulkSignOffSerializer,
        responses={
            200: BulkSignOffResultsSerializer,
            400: OpenApiResponse(
                field_errors("BulkSignOffErrors", BulkSignOffSerializer().fields),
                description="`returns` is not a list of ids.",
            ),
            **AUTH_ERRORS,
        },
    )
    @action(detail=False, methods=["post"], url_path="sign-off", url_name="bulk-sign-off")
    def bulk_sign_off(self, request: Request) -> Response:
        body = checked(BulkSignOffSerializer, request.data)
        wanted = list(dict.fromkeys(body["returns"]))
        # Another organisation's return is not found, as everywhere: the workflow's own
        # refusal would name its contract.
        visible = set(self.get_queryset().filter(pk__in=wanted).values_list("pk", flat=True))
        done = {
            result.return_id: result
            for result in workflow.bulk_sign_off(
                [pk for pk in wanted if pk in visible], request.user
            )
        }
        results = [
            {"id": pk, "signed_off": done[pk].signed_off, "message": done[pk].message}
            if pk in done
            else {"id": pk, "signed_off": False, "message": "No such return."}
            for pk in wanted
        ]
        return Response(BulkSignOffResultsSerializer({"results": results}).data)


@extend_schema(tags=["returns"])
class EntryViewSet(WorkflowViewSet):
    """One entry of a return: read it, or change its figure, narrative and actions."""

    serializer_class = EntrySerializer

    def _entry(self) -> Entry:
        visible = access.returns_for(self.request.user)
        try:
            return Entry.objects.select_related("observation").get(
                pk=self.kwargs["id"], monthly_return__in=visible
            )
        except Entry.DoesNotExist:
            raise Http404("No such entry.") from None

    @extend_schema(
        summary="One entry",
        description="As in its return's `entries`.",
        parameters=[id_parameter(ENTRY_ID)],
        responses={200: EntrySerializer, **AUTH_ERRORS, 404: NO_ENTRY},
    )
    def retrieve(self, request: Request, **kwargs: Any) -> Response:
        return Response(entry_document(request, self._entry()))

    @extend_schema(
        summary="Change an entry (provider)",
        description=(
            "Send the entry's `version` and only what changes: the figure's fields, the "
            "reasons (R9), actions to add, change or delete, and a `reason` for the record. "
            "Fields left out keep their values; null clears a figure's field. Allowed while "
            "the return is a draft, and while it is queried for the queried measures only. "
            "Answers with the entry as saved."
        ),
        parameters=[id_parameter(ENTRY_ID)],
        request=EntryChangeSerializer,
        responses={
            200: EntrySerializer,
            400: OpenApiResponse(
                field_errors("EntryChangeErrors", EntryChangeSerializer().fields),
                description="A field is malformed (the message names what was written) or "
                "breaks a rule: a figure that contradicts its numerator and denominator "
                "(R6), an action without an owner or due date.",
            ),
            401: NOT_SIGNED_IN,
            403: ROLE_REFUSED,
            404: NO_ENTRY,
            409: OpenApiResponse(
                EntryConflictSerializer,
                description="Someone saved the entry since your `version`: nothing was "
                "saved; `current` is the entry as saved, `submitted` your change. Or the "
                "return's state does not allow the change (`detail` only).",
            ),
        },
    )
    def partial_update(self, request: Request, **kwargs: Any) -> Response:
        entry = self._entry()
        change = checked(EntryChangeSerializer, request.data)
        figures = {name: change[name] for name in workflow.FIGURE_FIELDS if name in change}
        if entry.observation is not None and entry.version == change["version"]:
            # PATCH keeps what is not sent: save_entry treats a figure with no value,
            # numerator or denominator as cleared, so send the ones left out as they are.
            # Read at the version the client names, so save_entry's check covers them.
            for name in ("value", "numerator", "denominator"):
                figures.setdefault(name, getattr(entry.observation, name))
        narrative = {name: change[name] for name in workflow.NARRATIVE_FIELDS if name in change}
        saved = workflow.save_entry(
            entry.pk,
            request.user,
            version=change["version"],
            figures=figures,
            narrative=narrative or None,
            actions=change.get("actions", ()),
            reason=change.get("reason", ""),
        )
        return Response(entry_document(request, saved))

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, workflow.StaleEntry):
            sent = self.request.data if isinstance(self.request.data, dict) else {}
            fields = EntryChangeSerializer().fields
            return Response(
                {
                    "detail": exc.message,
                    # Read afresh: the entry as saved by whoever saved first.
                    "current": entry_document(self.request, exc.entry),
                    "submitted": {name: value for name, value in sent.items() if name in fields},
                },
                status=exc.status,
            )
        return super().handle_exception(exc)
