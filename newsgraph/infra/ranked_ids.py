"""Ranked story ids that a Paginator can page through, one window at a time.

A result list is (count, window): the count is asked for once, and only the
rows of the page shown are read, so stories are loaded for that page alone.
"""

from __future__ import annotations

from collections.abc import Callable

Row = tuple[int, str]  # (story id, snippet or "")
# Lists longer than this are not counted row by row (RankedIds.of_values).
COUNT_CAP = 10_000


class RankedIds:
    """What Paginator needs (count and slicing) over ordered story ids."""

    def __init__(
        self,
        count: Callable[[], int],
        window: Callable[[int, int], list[Row]],
        more: Callable[[], bool] | None = None,
    ):
        self._count, self._window, self._cached = count, window, None
        self._more, self._more_cached = more, None

    @classmethod
    def empty(cls) -> RankedIds:
        return cls(lambda: 0, lambda offset, limit: [])

    @classmethod
    def of_values(
        cls, ids, *, cap: int | None = None, beyond_cap: Callable[[], int] | None = None
    ) -> RankedIds:
        """From a values_list("…id", flat=True) queryset, without snippets.

        With `cap`, counting reads at most cap + 1 rows, so its cost stops
        growing with the list (a COUNT of 300,000 index entries is ~65 ms on
        PostgreSQL, docs/BENCHMARKS.md). Beyond the cap the count is
        `beyond_cap()`, a figure kept elsewhere (an entity's rescored story
        count), or else cap + 1 with more() true ("10,000+").
        """

        def window(offset: int, limit: int) -> list[Row]:
            return [(i, "") for i in ids[offset : offset + limit]]

        if cap is None:
            return cls(ids.count, window)
        found: list[int] = []

        def counted() -> int:
            if not found:
                found.append(ids.order_by()[: cap + 1].count())
            return found[0]

        def count() -> int:
            n = counted()
            return max(n, beyond_cap()) if n > cap and beyond_cap else n

        def more() -> bool:
            return counted() > cap and beyond_cap is None

        return cls(count, window, more)

    def more(self) -> bool:
        """Whether matches beyond the ranked candidate set exist."""
        if self._more is None:
            return False
        if self._more_cached is None:
            self._more_cached = bool(self._more())
        return self._more_cached

    def count(self) -> int:
        if self._cached is None:
            self._cached = self._count()
        return self._cached

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item: slice):
        return self._window(item.start or 0, (item.stop or 0) - (item.start or 0))


class ChainedIds:
    """Two ranked lists one after the other: all of `first`, then `then`."""

    def __init__(self, first: RankedIds, then: RankedIds):
        self._first, self._then = first, then

    def count(self) -> int:
        return self._first.count() + self._then.count()

    def more(self) -> bool:
        return self._then.more()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item: slice):
        start, stop = item.start or 0, item.stop or 0
        head = self._first.count()
        rows = list(self._first[start:stop]) if start < head else []
        if stop > head:
            rows += list(self._then[max(0, start - head) : stop - head])
        return rows
