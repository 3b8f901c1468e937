"""JSON Lines (plain, .gz, .zst, .bz2, .xz): the kept lines copied byte for byte, compressed as the input.

A missing final newline is added; blank and unreadable lines are not records and are not copied.
Rows are line indices (the reader's), so ``dest`` is indexed by line.
"""

from __future__ import annotations

from ...readers import InputFile
from ...readers.streams import open_stream
from .base import Destinations, OnRecords, Route, Writer, register_writer
from .text import TextShards, intact_lines


@register_writer
class JsonlWriter(Writer):
    """Copies kept JSON Lines records unchanged."""

    format = "jsonl"

    def write(self, info: InputFile, dest: Destinations, routes: dict[int, Route], row_group_size: int | None,
              on_records: OnRecords) -> None:
        """Stream the input's lines once, each to the route its row is planned for."""
        shards = {k: TextShards(r, info.compression) for k, r in routes.items()}
        row = 0
        try:
            with open_stream(info.path, info.compression)[0] as fh:
                for line in intact_lines(fh, len(dest)):
                    key = int(dest[row])
                    if key:
                        shards[key].write(line)
                        on_records(1)
                    row += 1
        finally:
            for s in shards.values():
                s.close()
