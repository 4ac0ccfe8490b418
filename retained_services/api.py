"""Read API for the council's retained-service datasets (``/api/v1/retained/``)."""

from __future__ import annotations

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from contracts.api.fields import TrueOrFalseFilter
from contracts.api.schema import (
    AUTH_ERRORS,
    ErrorDetailSerializer,
    id_parameter,
    list_errors,
    no_page,
)
from retained_services import datasets
from retained_services.models import AdmissionsFigure, Dataset, EHEFigure


class AdmissionsSerializer(serializers.ModelSerializer):
    class Meta:
        model = AdmissionsFigure
        fields = ["phase", *datasets.ADMISSIONS_FIELDS]


class EHESerializer(serializers.ModelSerializer):
    class Meta:
        model = EHEFigure
        fields = ["term", *datasets.EHE_FIELDS]


class DatasetSerializer(serializers.ModelSerializer):
    council = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    admissions = AdmissionsSerializer(many=True, read_only=True)
    ehe = EHESerializer(many=True, read_only=True)

    class Meta:
        model = Dataset
        fields = [
            "id",
            "council",
            "kind",
            "year",
            "is_final",
            "finalised_at",
            "note",
            "admissions",
            "ehe",
        ]


class DatasetFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=Dataset.Kind.choices, help_text="Only this kind.")
    year = filters.CharFilter(
        help_text="Only this year: admissions by calendar year of entry (2018), elective home "
        "education by academic year (2017/18)."
    )
    is_final = TrueOrFalseFilter(help_text="Only final (official) or only draft datasets.")

    class Meta:
        model = Dataset
        fields = ["kind", "year", "is_final"]


@extend_schema(tags=["retained services"])
@extend_schema_view(
    list=extend_schema(
        summary="Retained-service datasets",
        description="Your council's datasets by kind and year, each with its figures: "
        "`admissions` rows for admissions datasets, `ehe` rows for elective home education.",
        responses={
            200: DatasetSerializer(many=True),
            400: list_errors(
                "DatasetFilterErrors",
                DatasetFilter.base_filters,
                "A filter's value is not one the filter takes.",
            ),
            **AUTH_ERRORS,
            404: no_page(),
        },
    ),
    retrieve=extend_schema(
        summary="One retained-service dataset",
        parameters=[id_parameter("The dataset's id, as in the list.")],
        responses={
            200: DatasetSerializer,
            **AUTH_ERRORS,
            404: OpenApiResponse(
                ErrorDetailSerializer,
                description="No such dataset, or one you may not see (a draft, for a reader).",
            ),
        },
    ),
)
class DatasetViewSet(viewsets.ReadOnlyModelViewSet):
    """The council's admissions and elective home education datasets. Providers see none;
    readers see final (official) ones only (R14)."""

    serializer_class = DatasetSerializer
    filterset_class = DatasetFilter

    def get_queryset(self) -> QuerySet[Dataset]:
        return (
            datasets.datasets_for(self.request.user)
            .prefetch_related("admissions", "ehe")
            .order_by("kind", "year")
        )
