"""What the Xano Metadata API answers, as models: every answer mcpdeploy reads is checked here, at the edge.

A 2xx answer of another shape (an item without `id`, an id given as text, a page without `items`) is an ApiError
naming the call and what was wrong (exit 6), never a crash deeper in planning. The models keep the keys they do
not name, since apply puts a column back as it was read, with every setting Xano keeps on it.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr, ValidationError

from mcpdeploy.errors import ApiError


class XanoAnswer(BaseModel):
    model_config = ConfigDict(extra="allow")


class Table(XanoAnswer):
    id: StrictInt
    name: StrictStr


class ApiGroup(XanoAnswer):
    id: StrictInt
    name: StrictStr
    canonical: StrictStr | None = None


class Api(XanoAnswer):
    id: StrictInt
    name: StrictStr
    verb: StrictStr


class Column(XanoAnswer):
    name: StrictStr
    type: StrictStr


class Index(XanoAnswer):
    type: StrictStr


class Row(XanoAnswer):
    """A row of table content: any columns, but an object."""


class Created(XanoAnswer):
    """What a create answers: at least the new object's id."""

    id: StrictInt


class Page(BaseModel):
    items: list[Any]
    nextPage: StrictInt | None = None  # Xano's name


Model = TypeVar("Model", bound=BaseModel)


def by_id(item: dict[str, Any]) -> int:
    """Sort key of objects read through XanoClient, whose ids are checked integers: the oldest first."""
    return int(item["id"])


def parse(model: type[Model], raw: Any, *, method: str, url: str) -> Model:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise unexpected(exc, model, method=method, url=url) from None


def parse_each(model: type[XanoAnswer], raw: list[Any], *, method: str, url: str) -> list[dict[str, Any]]:
    """Each item checked, handed on as the dict it was (with the keys the model does not name)."""
    return [parse(model, item, method=method, url=url).model_dump(exclude_unset=True) for item in raw]


def unexpected(exc: ValidationError, model: type[BaseModel], *, method: str, url: str) -> ApiError:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "the answer"
    shown = type(first.get("input")).__name__
    return ApiError(service="xano", method=method, url=url, status=200, code=None,
                    detail=f"unexpected answer for a {model.__name__.lower()}: {where}: {first['msg']} "
                           f"(got {shown}; {len(exc.errors())} problem(s))",
                    hint="Xano answered in a shape mcpdeploy does not know; nothing more was sent. Check "
                         "XANO_INSTANCE_URL points at Xano's Metadata API, then report the call above.")
