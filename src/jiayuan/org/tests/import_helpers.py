"""Spreadsheets for the import and export tests, built in memory."""

import csv
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jiayuan.core.middleware import ESTATE_SESSION_KEY

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

BUILDING_HEADERS = ["楼栋名称", "地上层数", "地下层数", "备注"]
UNIT_HEADERS = ["楼栋", "单元", "房号", "楼层", "建筑面积", "套内面积", "状态"]
RESIDENT_HEADERS = ["姓名", "手机号", "楼栋", "单元", "房号", "关系", "入住日期", "等级", "备注"]


def xlsx_bytes(sheets: dict[str, list[list]]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    content_type = XLSX_TYPE if name.endswith(".xlsx") else "text/csv"
    return SimpleUploadedFile(name, data, content_type=content_type)


def read_xlsx(data: bytes) -> dict[str, list[tuple]]:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in workbook}


def client_in_estate(personas, user, estate):
    client = personas.client_for(user)
    session = client.session
    session[ESTATE_SESSION_KEY] = estate.pk
    session.save()
    return client


@pytest.fixture(autouse=True)
def _media_in_memory(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
