"""The item grid shared by the project page and review mode: filters from the URL, exact
counts, one keyset page and the links around it, so both pages filter, count and paginate the
same way."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from litestar import Request
from litestar.di import Provide
from litestar.params import FromQuery
from sqlmodel import Session

from scholia.core import counts, items, labels, limits
from scholia.core.errors import InvalidInput
from scholia.core.item_state import ItemState
from scholia.core.models import Item
from scholia.core.review import ItemFilter

from ..media import media_url
from ..routing import runtime_of

__all__ = ["GRID_QUERY", "GridQuery", "fold_counts_when_due", "grid_context"]

PAGE_SIZE = 48


@dataclass(frozen=True)
class GridQuery:
    """The grid's filters and keyset position, as they come in the URL (bad values dropped)."""

    group: str = "all"
    status: str | None = None
    category: int | None = None
    q: str | None = None
    """Text the item's name contains."""
    annotator: int | None = None
    """A user who submitted on the item."""
    sort: str = "added"
    after: int | None = None
    before: int | None = None
    last: bool = False

    @classmethod
    def parse(
        cls,
        group: str | None = None,
        status: str | None = None,
        category: str | None = None,
        after: str | None = None,
        before: str | None = None,
        last: str | None = None,
        q: str | None = None,
        annotator: str | None = None,
        sort: str | None = None,
    ) -> GridQuery:
        def number(text: str | None) -> int | None:
            return int(text) if text and text.strip().isdigit() else None

        return cls(
            group=group if group in counts.GROUPS else "all",
            status=status if status in ItemState.__members__ else None,
            category=number(category),
            q=(q or "").strip()[: limits.NAME_MAX] or None,
            annotator=number(annotator),
            sort=sort if sort in items.SORTS else "added",
            after=number(after),
            before=None if number(after) is not None else number(before),
            last=number(after) is None and number(before) is None and last in ("1", "true"),
        )

    def filters(self) -> dict[str, Any]:
        """The filter part of the URL (no position): the first page of this view."""
        found: dict[str, Any] = {}
        if self.group != "all":
            found["group"] = self.group
        if self.status:
            found["status"] = self.status
        if self.category is not None:
            found["category"] = self.category
        if self.q:
            found["q"] = self.q
        if self.annotator is not None:
            found["annotator"] = self.annotator
        if self.sort != "added":
            found["sort"] = self.sort
        return found

    def matching(self) -> ItemFilter:
        """The items these filters select (whatever the order and page)."""
        return ItemFilter(
            status=self.status,
            group=self.group,
            category_id=self.category,
            name=self.q,
            annotator_id=self.annotator,
        )

    def position(self) -> dict[str, Any]:
        if self.after is not None:
            return {"after": self.after}
        if self.before is not None:
            return {"before": self.before}
        return {"last": 1} if self.last else {}

    def url(self, base: str) -> str:
        """This exact view (filters and position) under ``base``."""
        return _url(base, {**self.filters(), **self.position()})


def _url(base: str, params: dict[str, Any]) -> str:
    kept = {k: v for k, v in params.items() if v is not None}
    return base + ("?" + urlencode(kept) if kept else "")


def grid_context(
    request: Request[Any, Any, Any],
    session: Session,
    project_id: int,
    query: GridQuery,
    base: str,
) -> dict[str, Any]:
    """Everything ``projects/_grid.html`` shows: counts, filter links, a page, pager links."""
    found = counts.project_counts(session, project_id)
    known = {c.id for c in labels.all_categories(session, project_id)}
    if query.category is not None and query.category not in known:
        query = replace(query, category=None, after=None, before=None, last=False)
    filters: dict[str, Any] = {**query.matching().arguments(), "sort": query.sort}
    backwards = query.before is not None or query.last
    try:
        # One row more than a page says whether there is more in the reading direction;
        # the other direction needs a probe only when the page is anchored.
        read: list[Item] = items.list_items(
            session,
            project_id,
            **filters,
            after_id=query.after,
            before_id=query.before,
            last=query.last,
            limit=PAGE_SIZE + 1,
        )
    except InvalidInput:  # a position from another project: the first page instead
        query = replace(query, after=None, before=None, last=False)
        backwards = False
        read = items.list_items(session, project_id, **filters, limit=PAGE_SIZE + 1)
    more = len(read) > PAGE_SIZE
    shown = read[1:] if backwards and more else read[:PAGE_SIZE]
    anchored = query.after is not None or query.before is not None

    def probe(**position: Any) -> bool:
        return bool(items.list_items(session, project_id, **filters, **position, limit=1))

    if backwards:
        has_prev = more
        has_next = bool(shown) and query.before is not None and probe(after_id=shown[-1].id)
    else:
        has_next = more
        has_prev = bool(shown) and anchored and probe(before_id=shown[0].id)
    here = query.filters()
    secret = runtime_of(request).settings.secret_key
    category_names = {c.id: c.name for c in found.categories}
    return {
        "counts": found,
        "grid_query": query,
        "grid_items": shown,
        "thumbs": {i.id: media_url(secret, i.content_hash, "thumb") for i in shown},
        "groups": [
            {
                "key": key,
                "title": counts.GROUP_TITLES[key],
                "count": found.groups[key],
                "url": _url(base, {**here, "group": None if key == "all" else key}),
                "active": query.group == key,
            }
            for key in counts.GROUPS
        ],
        "status_links": [
            {
                "key": s.value,
                "count": found.statuses[s.value],
                "url": _url(base, {**here, "status": None if query.status == s.value else s.value}),
                "active": query.status == s.value,
            }
            for s in ItemState
            if query.group == "all" or s in counts.GROUPS[query.group]
        ],
        "category_links": [
            {
                "id": c.id,
                "name": c.name,
                "color": c.color,
                "count": c.count,
                "url": _url(base, {**here, "category": None if query.category == c.id else c.id}),
                "active": query.category == c.id,
            }
            for c in found.categories
        ],
        "category_name": category_names.get(query.category or -1),
        "pager": {
            "first": _url(base, here) if has_prev else None,
            "prev": _url(base, {**here, "before": shown[0].id}) if has_prev else None,
            "next": _url(base, {**here, "after": shown[-1].id}) if has_next else None,
            "last": _url(base, {**here, "last": 1}) if has_next else None,
        },
        "clear_url": base,
    }


def fold_counts_when_due(request: Request[Any, Any, Any], project_id: int, found: Any) -> None:
    """After a page read the counts: fold the project's counter rows once they have piled up
    (``counts.FOLD_AT``), so the next reads sum a handful of rows again."""
    if found.changes > counts.FOLD_AT:
        with runtime_of(request).session() as session:
            counts.fold(session, project_id)


def _grid_query(
    group: FromQuery[str | None] = None,
    status: FromQuery[str | None] = None,
    category: FromQuery[str | None] = None,
    after: FromQuery[str | None] = None,
    before: FromQuery[str | None] = None,
    last: FromQuery[str | None] = None,
    q: FromQuery[str | None] = None,
    annotator: FromQuery[str | None] = None,
    sort: FromQuery[str | None] = None,
) -> GridQuery:
    return GridQuery.parse(group, status, category, after, before, last, q, annotator, sort)


GRID_QUERY = {"grid": Provide(_grid_query, sync_to_thread=False)}
"""Route dependency: a handler's ``grid: NamedDependency[GridQuery]``, read from the URL."""
