"""Field access: list indices in dotted paths, chat/SFT records as text, schema diagnosis."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from collapse_audit.errors import AuditError
from collapse_audit.readers.fields import get_path
from collapse_audit.readers.records import TextError, record_text

from .conftest import jsonl_bytes

CHAT = {"id": 1, "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi?"},
                              {"role": "assistant", "content": "hello."},
                              {"role": "assistant", "content": [{"type": "text", "text": "more"},
                                                                {"type": "image_url", "image_url": "x"}]}]}
SHAREGPT = {"conversations": [{"from": "human", "value": "question"}, {"from": "gpt", "value": "answer"}]}
ALPACA = {"instruction": "Add.", "input": "2+2", "output": "4"}


@pytest.mark.parametrize("path, expected", [
    ("messages.0.content", "be brief"), ("messages.-1.content.0.text", "more"), ("messages.9.content", None),
    ("messages.-9.content", None), ("id.0", None), ("messages.x", None),
])
def test_list_indices_in_dotted_paths(path, expected):
    assert get_path(CHAT, path) == expected


def test_literal_dotted_key_wins():
    assert get_path({"a.0": "literal", "a": ["nested"]}, "a.0") == "literal"


@pytest.mark.parametrize("record, field, roles, expected", [
    (CHAT, "messages", None, "be brief\n\nhi?\n\nhello.\n\nmore"),
    (CHAT, "messages", ("assistant",), "hello.\n\nmore"),
    (CHAT, "messages", ("user", "system"), "be brief\n\nhi?"),
    (SHAREGPT, "conversations", ("assistant",), "answer"),
    (SHAREGPT, "conversations", ("human",), "question"),
    (ALPACA, "instruction+input+output", None, "Add.\n\n2+2\n\n4"),
    (ALPACA, "instruction+input+output", ("assistant",), "4"),
    ({"instruction": "x", "output": "y"}, "instruction+input+output", None, "x\n\ny"),
])
def test_chat_and_sft_records_become_text(record, field, roles, expected):
    assert record_text(record, field, roles) == expected


@pytest.mark.parametrize("record, field, message", [
    ({"messages": [{"x": 1}]}, "messages", "not a chat turn"),
    ({"messages": [{"role": "user", "content": 5}]}, "messages", "content of type int"),
    ({"other": 1}, "instruction+output", "none of the text fields"),
    ({"text": {"a": 1}}, "text", "is dict, not a string"),
])
def test_unusable_structured_text_is_a_reason(record, field, message):
    with pytest.raises(TextError, match=message):
        record_text(record, field)


def test_chat_records_through_jsonl_and_parquet(tmp_path, read):
    (tmp_path / "a.jsonl").write_bytes(jsonl_bytes([CHAT]))
    flat = [{"role": m["role"], "content": m["content"] if isinstance(m["content"], str) else "more"}
            for m in CHAT["messages"]]
    pq.write_table(pa.table({"id": [1], "messages": [flat]}), tmp_path / "b.parquet")
    r = read([tmp_path / "a.jsonl", tmp_path / "b.parquet"], text_field="messages", roles=("assistant",),
             fields=("messages.-1.content", "messages.0.role"))
    assert r.texts == ["hello.\n\nmore", "hello.\n\nmore"]
    assert r.values("messages.0.role") == ["system", "system"]
    assert r.values("messages.-1.content")[1] == "more"


def test_sft_columns_in_parquet(tmp_path, read):
    pq.write_table(pa.Table.from_pylist([ALPACA, {"instruction": "Hi", "input": "", "output": "Hello"}]),
                   tmp_path / "a.parquet")
    r = read([tmp_path / "a.parquet"], text_field="instruction+input+output", roles=("assistant",))
    assert r.texts == ["4", "Hello"]


def test_schema_diagnosis_names_missing_fields_and_columns_found(tmp_path, read):
    (tmp_path / "a.jsonl").write_bytes(jsonl_bytes([{"id": 1, "text": "x", "meta": {"source": "web"}}]))
    pq.write_table(pa.table({"text": ["y"], "lang": ["en"]}), tmp_path / "b.parquet")
    r = read([tmp_path], fields=("provenance", "meta.source"))
    assert r.stats.missing_fields() == ["provenance"]
    assert r.stats.missing_field_message("meta.source", "fields.source") is None
    assert r.stats.missing_field_message("provenance", "fields.provenance", "--provenance-field") == (
        "fields.provenance 'provenance' exists in none of the inputs; columns found: id, text, meta.source, lang; "
        "set fields.provenance or --provenance-field.")


def test_missing_text_column_lists_columns(tmp_path, read):
    pq.write_table(pa.table({"body": ["x"], "id": [1]}), tmp_path / "a.parquet")
    with pytest.raises(AuditError, match="no column 'text' .*columns found: body, id; set fields.text or --text-field"):
        read([tmp_path / "a.parquet"])


def test_missing_text_field_names_the_keys_the_record_has(tmp_path, read):
    (tmp_path / "a.jsonl").write_bytes(jsonl_bytes([{"id": 1, "body": "x", "meta": {"a": 1}}]))
    with pytest.raises(AuditError, match=r"line 1: the text field 'text' is missing \(keys in this record: "
                                         r"id, body, meta; set fields.text or --text-field\)"):
        read([tmp_path / "a.jsonl"])
