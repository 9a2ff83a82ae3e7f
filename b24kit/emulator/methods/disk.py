"""``disk.*``: storages, folders and files of Drive, with the int-versus-string ids the docs show.

Objects read back (``disk.folder.get``, ``getchildren``, ``disk.file.get``) carry every value as
a string (``"ID": "8930"``, ``"DELETED_BY": "0"``); an object just written (``addsubfolder``,
``uploadfile``) has int ``ID``, ``REAL_OBJECT_ID``, ``DELETED_TYPE``, ``GLOBAL_CONTENT_VERSION``
and ``FILE_ID`` and ``DELETED_BY: null``, while ``STORAGE_ID`` and ``PARENT_ID`` stay strings.
File bytes are kept, base64, in ``disk_files``. ``uploadfile`` without ``fileContent`` answers
``{"field": "file", "uploadUrl": ...}``; a multipart POST of ``file`` to that URL (the emulator
serves it as the method ``upload``) stores the file. ``DOWNLOAD_URL`` is not served.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from b24kit.emulator import oauth
from b24kit.emulator.errors import RestError
from b24kit.emulator.query import Condition, FieldRef, Group, Query, compile_query, flag, paginate, php_int
from b24kit.emulator.registry import Ctx, Listing, Params, method

_STORAGE_KEYS = ("ID", "NAME", "CODE", "MODULE_ID", "ENTITY_TYPE", "ENTITY_ID", "ROOT_OBJECT_ID")
_FOLDER_KEYS = (
    "ID",
    "NAME",
    "CODE",
    "STORAGE_ID",
    "TYPE",
    "REAL_OBJECT_ID",
    "PARENT_ID",
    "DELETED_TYPE",
    "CREATE_TIME",
    "UPDATE_TIME",
    "DELETE_TIME",
    "CREATED_BY",
    "UPDATED_BY",
    "DELETED_BY",
)
_FILE_KEYS = (
    "ID",
    "NAME",
    "CODE",
    "STORAGE_ID",
    "TYPE",
    "PARENT_ID",
    "DELETED_TYPE",
    "GLOBAL_CONTENT_VERSION",
    "FILE_ID",
    "SIZE",
    "CREATE_TIME",
    "UPDATE_TIME",
    "DELETE_TIME",
    "CREATED_BY",
    "UPDATED_BY",
    "DELETED_BY",
)
_FRESH_INTS = ("ID", "REAL_OBJECT_ID", "DELETED_TYPE", "GLOBAL_CONTENT_VERSION", "FILE_ID")
_KINDS = {
    "ID": "int",
    "NAME": "str",
    "CODE": "str",
    "STORAGE_ID": "int",
    "TYPE": "str",
    "PARENT_ID": "int",
    "DELETED_TYPE": "int",
    "CREATE_TIME": "datetime",
    "UPDATE_TIME": "datetime",
    "CREATED_BY": "int",
    "UPDATED_BY": "int",
    "GLOBAL_CONTENT_VERSION": "int",
    "FILE_ID": "int",
    "SIZE": "int",
    "MODULE_ID": "str",
    "ENTITY_TYPE": "str",
    "ENTITY_ID": "str",
    "ROOT_OBJECT_ID": "int",
}
UPLOAD_TTL = 3600


def _argument(number: int) -> RestError:
    return RestError(400, "ERROR_ARGUMENT", f"Invalid value of parameter {{Parameter #{number}}}")


def _not_found(raw: Any) -> RestError:
    return RestError(400, "ERROR_NOT_FOUND", f"Could not find entity with id `{raw}`")


def _denied() -> RestError:
    return RestError(403, "ACCESS_DENIED", "Access denied")


def _resolve(name: str) -> FieldRef | None:
    upper = name.upper()
    return FieldRef(upper, _KINDS[upper]) if upper in _KINDS else None


def _id(p: Params, number: int) -> int:
    raw = p.get("id")
    value = php_int(raw) if isinstance(raw, int | str) and str(raw).strip().lstrip("-").isdecimal() else 0
    if value <= 0:
        raise _argument(number)
    return value


# -- storages -------------------------------------------------------------------------------


def _can_see(ctx: Ctx, storage: Mapping[str, Any]) -> bool:
    if ctx.portal.is_admin(ctx.caller.user_id) or storage["ENTITY_TYPE"] != "user":
        return True
    return str(storage["ENTITY_ID"]) == str(ctx.caller.user_id)


def render_storage(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: None if row.get(k) is None else str(row[k]) for k in _STORAGE_KEYS}


@method("disk.storage.getList", scope="disk")
def storage_list(ctx: Ctx, p: Params) -> Listing:
    portal = ctx.portal
    query = compile_query(p.mapping("filter"), p.mapping("order") or {"ID": "ASC"}, _resolve, portal.clock)
    conditions = list(query.conditions)
    if not portal.is_admin(ctx.caller.user_id):
        visible = [int(s["ID"]) for s in portal.table("disk_storages") if _can_see(ctx, s)]
        conditions.append(Condition(FieldRef("ID", "int"), "@", visible or [0], portal.clock))
    page = paginate(
        portal.table("disk_storages"), Query(conditions, query.order), p.get("start"), portal.cache
    )
    return Listing([render_storage(row) for row in page.rows], page.total, page.next)


@method("disk.storage.get", scope="disk")
def storage_get(ctx: Ctx, p: Params) -> Any:
    raw = p.get("id")
    if raw in (None, ""):
        raise _argument(0)
    if not (str(raw).strip().isascii() and str(raw).strip().isdecimal()):
        return None  # docs: "Returns null if id is not a number"
    storage = ctx.portal.table("disk_storages").get(int(str(raw).strip()))
    if storage is None:
        raise _not_found(raw)
    if not _can_see(ctx, storage):
        raise _denied()
    return render_storage(storage)


# -- objects --------------------------------------------------------------------------------


def _path(ctx: Ctx, row: Mapping[str, Any]) -> str:
    names: list[str] = []
    objects = ctx.portal.table("disk_objects")
    node: Mapping[str, Any] | None = row
    while node is not None and node.get("PARENT_ID"):
        names.append(str(node["NAME"]))
        node = objects.get(int(node["PARENT_ID"]))
    return "/".join(reversed(names))


def _detail_url(ctx: Ctx, row: Mapping[str, Any]) -> str:
    storage = ctx.portal.table("disk_storages").get(int(row["STORAGE_ID"])) or {}
    kind = "file" if row["TYPE"] == "file" else "path"
    base = ctx.portal.base_url
    if storage.get("ENTITY_TYPE") == "user":
        return f"{base}/company/personal/user/{storage['ENTITY_ID']}/disk/{kind}/{_path(ctx, row)}"
    if storage.get("ENTITY_TYPE") == "group":
        return f"{base}/workgroups/group/{storage['ENTITY_ID']}/disk/{kind}/{_path(ctx, row)}"
    return f"{base}/docs/{kind}/{_path(ctx, row)}"


def render_object(ctx: Ctx, row: Mapping[str, Any], *, fresh: bool = False) -> dict[str, Any]:
    """A folder or file; ``fresh`` renders it as the write methods answer (some ints, no DELETED_BY)."""
    keys = _FILE_KEYS if row["TYPE"] == "file" else _FOLDER_KEYS
    result: dict[str, Any] = {}
    for key in keys:
        value = row.get(key)
        if key == "DELETED_BY":
            result[key] = None if fresh else str(value or 0)
        elif value is None:
            result[key] = None
        elif fresh and key in _FRESH_INTS:
            result[key] = int(value)
        else:
            result[key] = str(value)
    if row["TYPE"] == "file":
        encoded = base64.urlsafe_b64encode(f"id={row['ID']}".encode()).decode()
        token = f"disk|{encoded}"
        result["DOWNLOAD_URL"] = f"{ctx.portal.base_url}/rest/download.json?token={token}"
    result["DETAIL_URL"] = _detail_url(ctx, row)
    return result


def _object(ctx: Ctx, p: Params, kind: str, number: int) -> dict[str, Any]:
    object_id = _id(p, number)
    row = ctx.portal.table("disk_objects").get(object_id)
    if row is None or row["TYPE"] != kind or row.get("DELETED_TYPE"):
        raise _not_found(p.get("id"))
    storage = ctx.portal.table("disk_storages").get(int(row["STORAGE_ID"]))
    if storage is None or not _can_see(ctx, storage):
        raise _denied()
    return row


@method("disk.folder.get", scope="disk")
def folder_get(ctx: Ctx, p: Params) -> dict[str, Any]:
    return render_object(ctx, _object(ctx, p, "folder", 1))


@method("disk.file.get", scope="disk")
def file_get(ctx: Ctx, p: Params) -> dict[str, Any]:
    return render_object(ctx, _object(ctx, p, "file", 0))


@method("disk.folder.getChildren", scope="disk")
def folder_children(ctx: Ctx, p: Params) -> Listing:
    folder = _object(ctx, p, "folder", 1)
    portal = ctx.portal
    query = compile_query(p.mapping("filter"), p.mapping("order") or {"ID": "ASC"}, _resolve, portal.clock)
    scope: list[Condition | Group] = [
        Condition(FieldRef("PARENT_ID", "int"), "", folder["ID"], portal.clock),
        Condition(FieldRef("DELETED_TYPE", "int"), "", 0, portal.clock),
    ]
    page = paginate(
        portal.table("disk_objects"),
        Query(scope + query.conditions, query.order),
        p.get("start"),
        portal.cache,
    )
    return Listing([render_object(ctx, row) for row in page.rows], page.total, page.next)


def _siblings(ctx: Ctx, folder_id: int) -> set[str]:
    return {
        str(r["NAME"]).casefold()
        for r in ctx.portal.table("disk_objects")
        if r.get("PARENT_ID") == folder_id and not r.get("DELETED_TYPE")
    }


def _insert(ctx: Ctx, folder: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    now = ctx.portal.clock.iso()
    user = ctx.caller.user_id
    row: dict[str, Any] = {
        "CODE": None,
        "STORAGE_ID": folder["STORAGE_ID"],
        "PARENT_ID": folder["ID"],
        "DELETED_TYPE": 0,
        "CREATE_TIME": now,
        "UPDATE_TIME": now,
        "DELETE_TIME": None,
        "CREATED_BY": user,
        "UPDATED_BY": user,
        "DELETED_BY": None,
        **values,
    }
    objects = ctx.portal.table("disk_objects")
    object_id = objects.insert(row)
    row["ID"] = object_id
    if row["TYPE"] == "folder":
        row["REAL_OBJECT_ID"] = object_id
    objects.save(object_id, row)
    return row


@method("disk.folder.addSubFolder", scope="disk")
def folder_add(ctx: Ctx, p: Params) -> dict[str, Any]:
    folder = _object(ctx, p, "folder", 0)
    data = p.mapping("data")
    name = data.get("NAME")
    if not isinstance(name, str | int) or not str(name).strip():
        raise _argument(1)
    name = str(name).strip()
    if name.casefold() in _siblings(ctx, int(folder["ID"])):
        raise RestError(400, "DISK_OBJ_22000", "A folder with this name already exists")
    return render_object(ctx, _insert(ctx, folder, {"NAME": name, "TYPE": "folder"}), fresh=True)


# -- files ----------------------------------------------------------------------------------


def _unique(name: str, taken: set[str]) -> str:
    path = PurePosixPath(name)
    counter = 1
    candidate = name
    while candidate.casefold() in taken:
        candidate = f"{path.stem} ({counter}){path.suffix}"
        counter += 1
    return candidate


def store_file(ctx: Ctx, folder: Mapping[str, Any], name: str, content: Any, unique: bool) -> dict[str, Any]:
    """Decode ``content`` (base64), keep the bytes and add the file object to ``folder``."""
    try:
        data = base64.b64decode(str(content), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise RestError(400, "ERROR_COULD_NOT_SAVE_FILE", "Could not save file") from exc
    taken = _siblings(ctx, int(folder["ID"]))
    if name.casefold() in taken:
        if not unique:
            raise RestError(400, "DISK_OBJ_22000", "A file with this name already exists")
        name = _unique(name, taken)
    file_id = ctx.portal.table("disk_files").insert(
        {"NAME": name, "SIZE": len(data), "CONTENT": base64.b64encode(data).decode()}
    )
    values = {
        "NAME": name,
        "TYPE": "file",
        "GLOBAL_CONTENT_VERSION": 1,
        "FILE_ID": file_id,
        "SIZE": len(data),
    }
    return _insert(ctx, folder, values)


def _upload_url(ctx: Ctx, folder: Mapping[str, Any], name: str, unique: bool) -> str:
    token = secrets.token_urlsafe(24)
    ctx.portal.table("disk_uploads").insert(
        {
            "token": token,
            "folder": folder["ID"],
            "user": ctx.caller.user_id,
            "name": name,
            "unique": unique,
            "expires": ctx.portal.clock.time() + UPLOAD_TTL,
        }
    )
    base = ctx.portal.base_url
    caller = ctx.caller
    if caller.is_app and caller.app_id is not None:
        access = oauth.current_tokens(ctx.portal, caller.app_id, caller.user_id)["access_token"]
        return f"{base}/rest/upload.json?auth={access}&token=disk%7C{token}"
    secret = ctx.portal.settings.webhooks.get(caller.user_id, "")
    return f"{base}/rest/{caller.user_id}/{secret}/upload.json?token=disk%7C{token}"


@method("disk.folder.uploadFile", scope="disk", batchable=False)
def folder_upload(ctx: Ctx, p: Params) -> dict[str, Any]:
    folder = _object(ctx, p, "folder", 0)
    data = p.mapping("data")
    name = str(data.get("NAME") or "").strip() if not isinstance(data.get("NAME"), dict | list) else ""
    unique = flag(p.get("generateuniquename", False)) == "Y"
    content = p.get("filecontent")
    if content in (None, "", []):
        return {"field": "file", "uploadUrl": _upload_url(ctx, folder, name, unique)}
    if not name:
        raise RestError(
            400, "DISK_BASE_SERVICE_22001", "Error: required parameter NAME (DISK_BASE_SERVICE_22001)"
        )
    items = list(content.values()) if isinstance(content, Mapping) else content
    if not isinstance(items, list) or len(items) != 2:
        raise RestError(400, "ERROR_COULD_NOT_SAVE_FILE", "Could not save file")
    return render_object(ctx, store_file(ctx, folder, name, items[1], unique), fresh=True)


@method("upload", scope="disk", batchable=False)
def upload(ctx: Ctx, p: Params) -> dict[str, Any]:
    """The ``uploadUrl`` target: a multipart ``file`` field for a pending ``uploadfile``."""
    token = str(p.get("token") or "").removeprefix("disk|")
    found = ctx.portal.table("disk_uploads").lookup("token", token) if token else None
    if (
        found is None
        or found[1]["expires"] < ctx.portal.clock.time()
        or found[1]["user"] != ctx.caller.user_id
    ):
        raise _denied()
    row_id, pending = found
    folder = ctx.portal.table("disk_objects").get(int(pending["folder"]))
    content = p.get("file")
    if folder is None or not isinstance(content, list) or len(content) != 2:
        raise RestError(400, "ERROR_COULD_NOT_SAVE_FILE", "Could not save file")
    ctx.portal.table("disk_uploads").delete(row_id)
    name = pending["name"] or str(content[0])
    return render_object(ctx, store_file(ctx, folder, name, content[1], bool(pending["unique"])), fresh=True)
