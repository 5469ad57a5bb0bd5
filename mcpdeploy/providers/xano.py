"""Client for the Xano Metadata API (`https://<instance>/api:meta`), shaped by its documentation and its answers:

- every list is read through all its pages (`nextPage`), never inferred from a full page;
- tables and endpoints are sent as XanoScript documents (`Content-Type: text/x-xanoscript`): a JSON body
  would create an endpoint with no logic, silently;
- a schema PUT replaces the whole list and needs the primary key first;
- errors come as `{"code", "message", "payload"}` and are turned into `ApiError`s naming the call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcpdeploy.errors import ApiError
from mcpdeploy.providers.http import HttpOptions, Response, ServiceClient, decode_json, join_url
from mcpdeploy.providers.xano_models import (
    Api,
    ApiGroup,
    Column,
    Created,
    Index,
    Page,
    Row,
    Table,
    XanoAnswer,
    parse,
    parse_each,
)

XANOSCRIPT = "text/x-xanoscript"
PAGE_SIZE = 50
_MAX_PAGES = 10_000  # a server that never says "no next page" must not loop us forever


class XanoClient(ServiceClient):
    service = "xano"

    def __init__(
        self,
        instance_url: str,
        token: str,
        workspace_id: int,
        *,
        branch: str = "",
        options: HttpOptions | None = None,
    ) -> None:
        super().__init__(join_url(instance_url, "api:meta"), token, options)
        self.instance_url = instance_url.rstrip("/")
        self.workspace_id = workspace_id
        self.branch = branch

    # -- errors -----------------------------------------------------------------------------------------------

    def parse_error(self, response: Response) -> tuple[str | None, str]:
        try:
            body = response.json()
        except ValueError:
            return None, response.text.strip() or response.reason_phrase
        # Whole texts: `send` masks the secrets in them and then cuts (a cut first could halve a token).
        if isinstance(body, dict):
            message = str(body.get("message") or response.reason_phrase)
            payload = body.get("payload")
            if isinstance(payload, dict) and payload.get("param"):
                message += f" (param: {payload['param']})"
            return (str(body["code"]) if body.get("code") else None), message
        return None, str(body)

    def hint_for(self, status: int, code: str | None) -> str | None:
        if status == 401:
            return ("Check XANO_METADATA_TOKEN: Metadata API tokens expire (7 days by default). Make a new one under "
                    "Instance settings > Metadata API & MCP Server.")
        if status == 403:
            return ("The token lacks a scope for this call: give it Database and API Groups read/create/update "
                    "(and delete for rollback) on this workspace.")
        if code == "ERROR_CODE_SYNTAX_ERROR":
            return "Xano rejected a XanoScript document: run `mcpdeploy xanoscript` to see what was sent."
        if status == 404:
            return "Check XANO_INSTANCE_URL and XANO_WORKSPACE_ID."
        return None

    # -- plumbing ---------------------------------------------------------------------------------------------

    def _ws(self, path: str = "") -> str:
        return f"workspace/{self.workspace_id}{path}"

    def _json(self, response: Response) -> Any:
        return decode_json(response, self.service, self.options.redactor)

    def _branch(self) -> dict[str, str]:
        return {"branch": self.branch} if self.branch else {}

    def _paged(self, model: type[XanoAnswer], path: str,
               params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every item of a paged list, each checked against `model`. Accepts the envelope, a one-envelope array
        (how Xano's spec types it) and a bare array (older answers)."""
        items: list[Any] = []
        page: int | None = 1
        while page is not None and page <= _MAX_PAGES:
            body = self._json(self.send("GET", path, params={**(params or {}), "page": page, "per_page": PAGE_SIZE}))
            if isinstance(body, list) and len(body) == 1 and isinstance(body[0], dict) and "items" in body[0]:
                body = body[0]
            if isinstance(body, list):
                return parse_each(model, items + body, method="GET", url=self.url(path))
            if not isinstance(body, dict) or not isinstance(body.get("items"), list):
                raise ApiError(service=self.service, method="GET", url=self.url(path), status=200, code=None,
                               detail="expected a paged list {curPage, nextPage, items}")
            next_page = parse(Page, body, method="GET", url=self.url(path)).nextPage
            items.extend(body["items"])
            if next_page is not None and next_page <= page:
                raise ApiError(service=self.service, method="GET", url=self.url(path), status=200, code=None,
                               detail=f"paging does not advance (page {page}, nextPage {next_page})")
            page = next_page
        if page is None:
            return parse_each(model, items, method="GET", url=self.url(path))
        raise ApiError(service=self.service, method="GET", url=self.url(path), status=200, code=None,
                       detail=f"more than {_MAX_PAGES} pages")

    # -- account and workspace --------------------------------------------------------------------------------

    def whoami(self) -> dict[str, Any]:
        return parse(Row, self._json(self.send("GET", "auth/me")), method="GET", url=self.url("auth/me")).model_dump()

    # -- tables -----------------------------------------------------------------------------------------------

    def list_tables(self) -> list[dict[str, Any]]:
        return self._paged(Table, self._ws("/table"), self._branch())

    def create_table(self, document: str) -> dict[str, Any]:
        body = self._json(
            self.send("POST", self._ws("/table"), content=document, content_type=XANOSCRIPT, params=self._branch())
        )
        return parse(Created, body, method="POST", url=self.url(self._ws("/table"))).model_dump()

    def get_table(self, table_id: int, *, include_xanoscript: bool = False) -> dict[str, Any]:
        params = {"include_xanoscript": True} if include_xanoscript else None
        body = self._json(self.send("GET", self._ws(f"/table/{table_id}"), params=params))
        if not isinstance(body, dict):
            raise ApiError(service=self.service, method="GET", url=self.url(self._ws(f"/table/{table_id}")),
                           status=200, code=None, detail="unexpected answer: expected a table object")
        return body

    def delete_table(self, table_id: int) -> None:
        self.send("DELETE", self._ws(f"/table/{table_id}"))

    def get_schema(self, table_id: int) -> list[dict[str, Any]]:
        return self._list_answer(Column, f"/table/{table_id}/schema", "schema")

    def put_schema(self, table_id: int, fields: list[dict[str, Any]]) -> None:
        """Replace the whole schema. Xano wants the primary key first, so `id` is moved to the front here."""
        ordered = sorted(fields, key=lambda f: 0 if f.get("name") == "id" else 1)
        self.send("PUT", self._ws(f"/table/{table_id}/schema"), json_body={"schema": ordered})

    def get_indexes(self, table_id: int) -> list[dict[str, Any]]:
        return self._list_answer(Index, f"/table/{table_id}/index", "index")

    def _list_answer(self, model: type[XanoAnswer], path: str, key: str) -> list[dict[str, Any]]:
        """A bare array (what clients see), or an object holding it under `key` (how Xano's spec types it).
        Any other shape is an error, never "empty": read as empty, it would plan every column as missing."""
        body = self._json(self.send("GET", self._ws(path)))
        if isinstance(body, dict) and isinstance(body.get(key), list):
            body = body[key]
        if not isinstance(body, list):
            raise ApiError(service=self.service, method="GET", url=self.url(self._ws(path)), status=200, code=None,
                           detail=f"unexpected answer: expected a list of {key} entries")
        return parse_each(model, body, method="GET", url=self.url(self._ws(path)))

    def add_index(self, table_id: int, index_type: str, fields: list[dict[str, str]]) -> dict[str, Any]:
        path = self._ws(f"/table/{table_id}/index/{index_type}")
        body = self._json(self.send("POST", path, json_body={"fields": fields}))
        if not isinstance(body, dict):
            raise ApiError(service=self.service, method="POST", url=self.url(path), status=200, code=None,
                           detail="unexpected answer: expected an index object")
        return body

    def delete_index(self, table_id: int, index_id: str) -> None:
        self.send("DELETE", self._ws(f"/table/{table_id}/index/{index_id}"))

    def list_content(self, table_id: int) -> list[dict[str, Any]]:
        return self._paged(Row, self._ws(f"/table/{table_id}/content"))

    # -- API groups and endpoints -----------------------------------------------------------------------------

    def list_api_groups(self) -> list[dict[str, Any]]:
        return self._paged(ApiGroup, self._ws("/apigroup"), self._branch())

    def create_api_group(self, name: str, description: str) -> dict[str, Any]:
        payload: dict[str, Any] = {"name": name, "description": description, "swagger": True}
        if self.branch:
            payload["branch"] = self.branch
        body = self._json(self.send("POST", self._ws("/apigroup"), json_body=payload))
        group = parse(ApiGroup, body, method="POST", url=self.url(self._ws("/apigroup")))
        return group.model_dump(exclude_unset=True)

    def delete_api_group(self, group_id: int) -> None:
        self.send("DELETE", self._ws(f"/apigroup/{group_id}"))

    def list_apis(self, group_id: int) -> list[dict[str, Any]]:
        return self._paged(Api, self._ws(f"/apigroup/{group_id}/api"), {"include_xanoscript": True})

    def create_api(self, group_id: int, document: str) -> dict[str, Any]:
        path = self._ws(f"/apigroup/{group_id}/api")
        body = self._json(self.send("POST", path, content=document, content_type=XANOSCRIPT, params=self._branch()))
        return parse(Created, body, method="POST", url=self.url(path)).model_dump()

    def update_api(self, group_id: int, api_id: int, document: str) -> None:
        self.send("PUT", self._ws(f"/apigroup/{group_id}/api/{api_id}"), content=document, content_type=XANOSCRIPT,
                  params={"publish": True})

    def delete_api(self, group_id: int, api_id: int) -> None:
        self.send("DELETE", self._ws(f"/apigroup/{group_id}/api/{api_id}"))

    def runtime_base_url(self, canonical: str) -> str:
        """Where the group's endpoints answer: `https://<instance>/api:<canonical>[:<branch>]`."""
        suffix = f":{self.branch}" if self.branch and self.branch != "v1" else ""
        return join_url(self.instance_url, f"api:{canonical}{suffix}")
