from functools import cached_property

from django.core.paginator import Paginator
from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """`count`, `next`, `previous`, `results`; ?page=N&page_size=M (max 200)."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_known_count(self, queryset, count: int, request, view=None):
        """paginate_queryset for a list whose size is already known (no COUNT query)."""

        class Counted(Paginator):
            @cached_property
            def count(self):
                return count

        self.django_paginator_class = Counted
        return self.paginate_queryset(queryset, request, view)
