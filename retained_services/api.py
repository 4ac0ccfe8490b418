"""Read API for the council's retained-service datasets (``/api/v1/retained/``)."""

from __future__ import annotations

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from rest_framework import serializers, viewsets

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
        fields = ["id", "council", "kind", "year", "is_final", "finalised_at", "note", "admissions", "ehe"]


class DatasetFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=Dataset.Kind.choices)
    year = filters.CharFilter()
    is_final = filters.BooleanFilter()

    class Meta:
        model = Dataset
        fields = ["kind", "year", "is_final"]


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
