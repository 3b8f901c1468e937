"""Writers beside readers: ``filter`` writes the records it keeps in each input's own format.

One writer per reader format, registered like readers (``register_writer``): JSON Lines, CSV/TSV,
JSON arrays (each in its input's compression: none, gz, zst, bz2 or xz), Parquet and Arrow IPC
(schema and codec kept). A Hugging Face ``save_to_disk`` folder has no writer: ``filter`` refuses
it before scanning, saying how to export it (``base.refuse_unwritable``).
"""

from __future__ import annotations

from . import arrow, csv, json_array, jsonl, parquet  # noqa: F401 - importing a writer registers it
from .base import (
    Route,
    StagedDir,
    Writer,
    check_output_dir,
    output_names,
    refuse_unwritable,
    register_writer,
    shard_names,
    split_name,
    write_input,
    writer_for,
)

__all__ = ["Route", "StagedDir", "Writer", "check_output_dir", "output_names", "refuse_unwritable",
           "register_writer", "shard_names", "split_name", "write_input", "writer_for"]
