"""JSON arrays (``.json``, plain or compressed): each kept element as the text it was stored as.

Every shard is one array, an element per line group: ``[``, the elements separated by ``,`` and a
newline, ``]``. Rows are element indices (the reader's); elements that were bad records are not copied.
"""

from __future__ import annotations

from ...readers import InputFile
from ...readers.json_array import iter_elements
from .base import Destinations, OnRecords, Route, Writer, register_writer
from .text import Framing, TextShards

ARRAY = Framing(prologue=b"[\n", separator=b",\n", epilogue=b"\n]\n", lines=False)


@register_writer
class JsonArrayWriter(Writer):
    """Copies kept elements of a JSON array unchanged into arrays of the same compression."""

    format = "json"

    def write(self, info: InputFile, dest: Destinations, routes: dict[int, Route], row_group_size: int | None,
              on_records: OnRecords) -> None:
        """Walk the input's array once, each element to the route its row is planned for."""
        shards = {k: TextShards(r, info.compression, ARRAY) for k, r in routes.items()}
        try:
            for element in iter_elements(info):
                if element.row >= len(dest):
                    break
                key = int(dest[element.row])
                if key:
                    shards[key].write(element.raw.encode("utf-8"))
                    on_records(1)
        finally:
            for s in shards.values():
                s.close()
