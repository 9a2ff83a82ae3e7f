"""``disk.*`` over HTTP: storages, folders, files, int-versus-string ids, uploads, errors."""

from __future__ import annotations

import base64

import pytest

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256))).decode()


def storages(emu) -> dict[str, dict]:
    return {s["ENTITY_TYPE"]: s for s in emu.rest("disk.storage.getList")["result"]}


def shared_root(emu) -> int:
    return int(storages(emu)["common"]["ROOT_OBJECT_ID"])


def test_fresh_portal_has_a_shared_drive_and_the_admins_drive(b24_emulator):
    body = b24_emulator.rest("disk.storage.getList")
    assert body["total"] == 2
    common = next(s for s in body["result"] if s["ENTITY_TYPE"] == "common")
    user = next(s for s in body["result"] if s["ENTITY_TYPE"] == "user")
    assert common["MODULE_ID"] == "disk" and common["CODE"] == "shared_files"
    assert user["ENTITY_ID"] == "1" and user["CODE"] is None
    assert all(isinstance(s[k], str) for s in body["result"] for k in ("ID", "ENTITY_ID", "ROOT_OBJECT_ID"))
    assert b24_emulator.rest("disk.storage.get", {"id": common["ID"]})["result"] == common
    assert b24_emulator.rest("disk.storage.getList", {"filter": {"ENTITY_TYPE": "user"}})["total"] == 1


def test_storage_get_errors(b24_emulator):
    emu = b24_emulator
    assert emu.rest("disk.storage.get", {}) == {
        "error": "ERROR_ARGUMENT",
        "error_description": "Invalid value of parameter {Parameter #0}",
    }
    assert emu.rest("disk.storage.get", {"id": "abc"})["result"] is None
    assert emu.rest("disk.storage.get", {"id": 999}) == {
        "error": "ERROR_NOT_FOUND",
        "error_description": "Could not find entity with id `999`",
    }


def test_addsubfolder_answers_ints_and_get_answers_strings(b24_emulator):
    emu = b24_emulator
    root = shared_root(emu)
    made = emu.rest("disk.folder.addsubfolder", {"id": root, "data": {"NAME": "Contracts"}})["result"]
    assert isinstance(made["ID"], int) and made["REAL_OBJECT_ID"] == made["ID"]
    assert made["STORAGE_ID"] == storages(emu)["common"]["ID"] and made["PARENT_ID"] == str(root)
    assert made["DELETED_TYPE"] == 0 and made["DELETED_BY"] is None and made["TYPE"] == "folder"
    assert made["CREATED_BY"] == "1" and made["CREATE_TIME"].endswith("+03:00")
    assert made["DETAIL_URL"].endswith("/docs/path/Contracts")
    read = emu.rest("disk.folder.get", {"id": made["ID"]})["result"]
    assert read["ID"] == str(made["ID"]) and read["REAL_OBJECT_ID"] == str(made["ID"])
    assert read["DELETED_TYPE"] == "0" and read["DELETED_BY"] == "0"
    nested = emu.rest("disk.folder.addSubFolder", {"id": made["ID"], "data": {"NAME": "2025"}})["result"]
    assert nested["DETAIL_URL"].endswith("/docs/path/Contracts/2025")


@pytest.mark.parametrize(
    ("params", "code", "text"),
    [
        ({"data": {"NAME": "X"}}, "ERROR_ARGUMENT", "Invalid value of parameter {Parameter #0}"),
        ({"id": "ROOT", "data": {}}, "ERROR_ARGUMENT", "Invalid value of parameter {Parameter #1}"),
        (
            {"id": "ROOT", "data": {"NAME": "  "}},
            "ERROR_ARGUMENT",
            "Invalid value of parameter {Parameter #1}",
        ),
        (
            {"id": "ROOT", "data": {"NAME": "taken"}},
            "DISK_OBJ_22000",
            "A folder with this name already exists",
        ),
        (
            {"id": "ROOT", "data": {"NAME": "TAKEN"}},
            "DISK_OBJ_22000",
            "A folder with this name already exists",
        ),
        ({"id": 999999, "data": {"NAME": "X"}}, "ERROR_NOT_FOUND", "Could not find entity with id `999999`"),
    ],
)
def test_addsubfolder_errors(b24_emulator, params, code, text):
    emu = b24_emulator
    root = shared_root(emu)
    emu.rest("disk.folder.addsubfolder", {"id": root, "data": {"NAME": "taken"}})
    if params.get("id") == "ROOT":
        params = {**params, "id": root}
    response = emu.http.post(f"{emu.webhook_url}disk.folder.addsubfolder", json=params)
    assert response.status_code == 400
    assert response.json() == {"error": code, "error_description": text}


def test_uploadfile_stores_the_bytes(b24_emulator):
    emu = b24_emulator
    root = shared_root(emu)
    made = emu.rest(
        "disk.folder.uploadfile", {"id": root, "data": {"NAME": "test.png"}, "fileContent": ["test.png", PNG]}
    )["result"]
    assert isinstance(made["ID"], int) and isinstance(made["FILE_ID"], int)
    assert made["GLOBAL_CONTENT_VERSION"] == 1 and made["SIZE"] == "264" and made["TYPE"] == "file"
    assert made["DELETED_BY"] is None and "REAL_OBJECT_ID" not in made
    assert made["DOWNLOAD_URL"].startswith(f"{emu.base_url}/rest/download.json?")
    stored = emu.portal.table("disk_files").get(made["FILE_ID"])
    assert base64.b64decode(stored["CONTENT"]) == base64.b64decode(PNG)
    read = emu.rest("disk.file.get", {"id": made["ID"]})["result"]
    assert (read["ID"], read["FILE_ID"], read["SIZE"], read["GLOBAL_CONTENT_VERSION"]) == (
        str(made["ID"]),
        str(made["FILE_ID"]),
        "264",
        "1",
    )
    again = emu.rest(
        "disk.folder.uploadfile", {"id": root, "data": {"NAME": "test.png"}, "fileContent": ["t", PNG]}
    )
    assert again == {"error": "DISK_OBJ_22000", "error_description": "A file with this name already exists"}
    unique = emu.rest(
        "disk.folder.uploadfile",
        {"id": root, "data": {"NAME": "test.png"}, "fileContent": ["t", PNG], "generateUniqueName": True},
    )
    assert unique["result"]["NAME"] == "test (1).png"


@pytest.mark.parametrize(
    ("params", "code", "text"),
    [
        ({"fileContent": ["a.txt", "YQ=="]}, "ERROR_ARGUMENT", "Invalid value of parameter {Parameter #0}"),
        (
            {"id": "ROOT", "fileContent": ["a.txt", "YQ=="]},
            "DISK_BASE_SERVICE_22001",
            "Error: required parameter NAME (DISK_BASE_SERVICE_22001)",
        ),
        (
            {"id": "ROOT", "data": {"NAME": "a.txt"}, "fileContent": ["a.txt", "not base64!!"]},
            "ERROR_COULD_NOT_SAVE_FILE",
            "Could not save file",
        ),
        (
            {"id": "ROOT", "data": {"NAME": "a.txt"}, "fileContent": "YQ=="},
            "ERROR_COULD_NOT_SAVE_FILE",
            "Could not save file",
        ),
        (
            {"id": 999999, "data": {"NAME": "a.txt"}, "fileContent": ["a.txt", "YQ=="]},
            "ERROR_NOT_FOUND",
            "Could not find entity with id `999999`",
        ),
    ],
)
def test_uploadfile_errors(b24_emulator, params, code, text):
    emu = b24_emulator
    if params.get("id") == "ROOT":
        params = {**params, "id": shared_root(emu)}
    response = emu.http.post(f"{emu.webhook_url}disk.folder.uploadfile", json=params)
    assert response.status_code == 400
    assert response.json() == {"error": code, "error_description": text}
    assert len(emu.portal.table("disk_files")) == 0


def test_upload_through_the_upload_url(b24_emulator):
    emu = b24_emulator
    root = shared_root(emu)
    answer = emu.rest("disk.folder.uploadfile", {"id": root, "data": {"NAME": "scan.pdf"}})["result"]
    assert (
        answer["field"] == "file"
        and "/upload.json?" in answer["uploadUrl"]
        and "token=" in answer["uploadUrl"]
    )
    response = emu.http.post(answer["uploadUrl"], files={answer["field"]: ("local.pdf", b"%PDF-1.7 data")})
    made = response.json()["result"]
    assert made["NAME"] == "scan.pdf" and made["SIZE"] == "13"
    stored = emu.portal.table("disk_files").get(made["FILE_ID"])
    assert base64.b64decode(stored["CONTENT"]) == b"%PDF-1.7 data"
    reused = emu.http.post(answer["uploadUrl"], files={"file": ("x.pdf", b"x")})
    assert reused.json()["error"] == "ACCESS_DENIED"


def test_upload_url_for_an_application(b24_emulator):
    emu = b24_emulator
    token = emu.admin("apps", {"client_id": "app.disk", "client_secret": "x"})["access_token"]
    root = shared_root(emu)
    answer = emu.http.post(
        f"{emu.base_url}/rest/disk.folder.uploadfile", json={"id": root, "auth": token}
    ).json()
    url = answer["result"]["uploadUrl"]
    assert url.startswith(f"{emu.base_url}/rest/upload.json?auth=")
    made = emu.http.post(url, files={"file": ("a.txt", b"hello")}).json()["result"]
    assert made["NAME"] == "a.txt" and made["SIZE"] == "5"


def test_getchildren_lists_folders_and_files_as_strings(b24_emulator):
    emu = b24_emulator
    root = shared_root(emu)
    folder = emu.rest("disk.folder.addsubfolder", {"id": root, "data": {"NAME": "Docs"}})["result"]
    for i in range(55):
        emu.portal.call(
            "disk.folder.uploadfile",
            {"id": folder["ID"], "data": {"NAME": f"f{i:02d}.txt"}, "fileContent": ["x", "YQ=="]},
        )
    emu.rest("disk.folder.addsubfolder", {"id": folder["ID"], "data": {"NAME": "Sub"}})
    first = emu.rest("disk.folder.getchildren", {"id": folder["ID"]})
    assert (len(first["result"]), first["total"], first["next"]) == (50, 56, 50)
    assert all(isinstance(r["ID"], str) and r["DELETED_BY"] == "0" for r in first["result"])
    second = emu.rest("disk.folder.getchildren", {"id": folder["ID"], "start": 50})
    assert len(second["result"]) == 6 and "next" not in second
    only_folders = emu.rest("disk.folder.getchildren", {"id": folder["ID"], "filter": {"TYPE": "folder"}})
    assert [r["NAME"] for r in only_folders["result"]] == ["Sub"]
    named = emu.rest(
        "disk.folder.getchildren", {"id": folder["ID"], "filter": {"%NAME": "f1"}, "order": {"ID": "DESC"}}
    )
    assert [r["NAME"] for r in named["result"]][:2] == ["f19.txt", "f18.txt"]
    assert emu.rest("disk.folder.getchildren", {}) == {
        "error": "ERROR_ARGUMENT",
        "error_description": "Invalid value of parameter {Parameter #1}",
    }


def test_file_and_folder_ids_are_not_interchangeable(b24_emulator):
    emu = b24_emulator
    root = shared_root(emu)
    made = emu.rest(
        "disk.folder.uploadfile", {"id": root, "data": {"NAME": "a.txt"}, "fileContent": ["a", "YQ=="]}
    )
    assert emu.rest("disk.folder.get", {"id": made["result"]["ID"]})["error"] == "ERROR_NOT_FOUND"
    assert emu.rest("disk.file.get", {"id": root})["error"] == "ERROR_NOT_FOUND"
    assert emu.rest("disk.file.get", {})["error_description"] == "Invalid value of parameter {Parameter #0}"


def test_uploadfile_is_not_allowed_in_batch(b24_emulator):
    emu = b24_emulator
    root = shared_root(emu)
    body = emu.rest(
        "batch",
        {
            "cmd": {
                "up": f"disk.folder.uploadfile?id={root}&data[NAME]=a.txt"
                "&fileContent[0]=a.txt&fileContent[1]=YQ==",
                "get": f"disk.folder.get?id={root}",
            }
        },
    )
    assert body["result"]["result_error"]["up"]["error"] == "ERROR_BATCH_METHOD_NOT_ALLOWED"
    assert body["result"]["result"]["get"]["ID"] == str(root)
    assert len(emu.portal.table("disk_files")) == 0


def test_other_users_drive_is_private(b24_emulator):
    emu = b24_emulator
    other = emu.rest("user.add", {"EMAIL": "d@example.com", "UF_DEPARTMENT": [1]})["result"]
    token = emu.admin("apps", {"client_id": "app.d", "client_secret": "x", "user_id": other})["access_token"]
    admin_drive = storages(emu)["user"]

    def call(method, params):
        return emu.http.post(f"{emu.base_url}/rest/{method}", json={**params, "auth": token})

    listed = call("disk.storage.getList", {}).json()["result"]
    assert [s["ENTITY_TYPE"] for s in listed] == ["common"]
    denied = call("disk.folder.get", {"id": admin_drive["ROOT_OBJECT_ID"]})
    assert (denied.status_code, denied.json()["error"]) == (403, "ACCESS_DENIED")
