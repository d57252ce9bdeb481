#!/usr/bin/env python3
"""Converts ECS-shaped NDJSON events into Parquet files in the event store's flat schema.

Usage:
    to_parquet.py --in FILE.ndjson --out DIR [--rows-per-file 1000000] [--row-group 131072]

The schema is the one crates/palisade-store/src/schema.rs writes: `@timestamp` (timestamp[us,
UTC], not null), the typed string and int64 columns below, and `_source`, a JSON object (keys
sorted, compact) of every other flattened field. Nested objects become dotted names; arrays of
scalars in a typed string column are joined with ","; a value a typed int column cannot hold
stays in `_source`, as the Rust writer does. Files are zstd-compressed, written as
DIR/part-00000.parquet, part-00001.parquet, ... in input order.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import pyarrow as pa
import pyarrow.parquet as pq

TIMESTAMP = "@timestamp"
SOURCE = "_source"
STRING_COLUMNS = [
    "event.dataset", "event.kind", "event.category", "event.type", "event.action", "event.outcome", "event.code",
    "host.name", "user.name", "source.ip", "destination.ip", "network.transport", "process.name",
    "process.executable", "process.command_line", "process.parent.executable", "dns.question.name",
    "dns.question.type", "url.original", "url.domain", "http.request.method", "user_agent.original", "file.path",
    "file.hash.sha256", "host.hostname", "log.source.address", "log.syslog.appname", "log.syslog.facility.name",
    "log.syslog.hostname", "log.syslog.msgid", "log.syslog.procid", "log.syslog.severity.name", "log.syslog.version",
    "message", "event.original",
]
INT_COLUMNS = [
    "source.port", "destination.port", "process.pid", "http.response.status_code",
    "log.syslog.priority", "log.syslog.facility.code", "log.syslog.severity.code",
]

SCHEMA = pa.schema(
    [pa.field(TIMESTAMP, pa.timestamp("us", tz="UTC"), nullable=False)]
    + [pa.field(name, pa.string()) for name in STRING_COLUMNS]
    + [pa.field(name, pa.int64()) for name in INT_COLUMNS]
    + [pa.field(SOURCE, pa.string())]
)
STRING_INDEX = {name: i for i, name in enumerate(STRING_COLUMNS)}
INT_INDEX = {name: i for i, name in enumerate(INT_COLUMNS)}


def scalar_text(value) -> str | None:
    """Value::to_text of schema.rs: scalars only (null and lists have no text)."""
    t = type(value)
    if t is str:
        return value
    if t is bool:
        return "true" if value else "false"
    if t is int:
        return str(value)
    if t is float:
        return str(int(value)) if value.is_integer() else repr(value)
    return None


def text_of(value) -> str | None:
    """The string a typed string column stores (mirrors schema.rs `text_of`): a list of
    scalars is joined with ","."""
    if type(value) is list:
        parts = [p for p in (scalar_text(v) for v in value) if p is not None]
        return ",".join(parts) if parts else None
    return scalar_text(value)


def int_of(value) -> int | None:
    """The integer a typed int column stores, or None when it cannot (mirrors `int_of`)."""
    t = type(value)
    if t is int:
        return value
    if t is str:
        try:
            return int(value.strip())
        except ValueError:
            return None
    if t is float and value.is_integer():
        return int(value)
    return None


class Writer:
    def __init__(self, out_dir: str, rows_per_file: int, row_group: int):
        self.out_dir = out_dir
        self.rows_per_file = rows_per_file
        self.row_group = row_group
        self.file_index = 0
        self.file_rows = 0
        self.writer: pq.ParquetWriter | None = None
        self.total_rows = 0
        self.paths: list[str] = []

    def _open(self) -> None:
        path = os.path.join(self.out_dir, f"part-{self.file_index:05d}.parquet")
        self.paths.append(path)
        self.writer = pq.ParquetWriter(path, SCHEMA, compression="zstd", compression_level=3,
                                       write_statistics=True, use_dictionary=True)
        self.file_index += 1
        self.file_rows = 0

    def write(self, batch: pa.RecordBatch) -> None:
        offset = 0
        while offset < batch.num_rows:
            if self.writer is None:
                self._open()
            take = min(batch.num_rows - offset, self.rows_per_file - self.file_rows)
            self.writer.write_batch(batch.slice(offset, take), row_group_size=self.row_group)
            offset += take
            self.file_rows += take
            self.total_rows += take
            if self.file_rows >= self.rows_per_file:
                self.close()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def convert(lines: list[str], line_no: int) -> pa.RecordBatch:
    n = len(lines)
    ts: list[str] = [""] * n
    strings = [[None] * n for _ in STRING_COLUMNS]
    ints = [[None] * n for _ in INT_COLUMNS]
    sources: list[str] = [""] * n
    loads = json.loads
    dumps = json.dumps
    sidx = STRING_INDEX
    iidx = INT_INDEX
    for row, line in enumerate(lines):
        try:
            doc = loads(line)
        except ValueError as err:
            raise SystemExit(f"line {line_no + row + 1}: invalid JSON: {err}")
        if type(doc) is not dict:
            raise SystemExit(f"line {line_no + row + 1}: not a JSON object")
        stamp = doc.pop(TIMESTAMP, None)
        if type(stamp) is not str:
            raise SystemExit(f"line {line_no + row + 1}: missing or non-string @timestamp")
        ts[row] = stamp
        rest = {}
        stack = [("", doc)]
        while stack:
            prefix, obj = stack.pop()
            for key, value in obj.items():
                name = prefix + key
                if type(value) is dict:
                    stack.append((name + ".", value))
                    continue
                i = sidx.get(name)
                if i is not None:
                    strings[i][row] = value if type(value) is str else text_of(value)
                    continue
                i = iidx.get(name)
                if i is not None:
                    v = value if type(value) is int else int_of(value)
                    if v is not None:
                        ints[i][row] = v
                        continue
                rest[name] = value
        sources[row] = dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    stamps = pa.array(ts, pa.string()).cast(pa.timestamp("us", tz="UTC"))
    arrays = [stamps] + [pa.array(col, pa.string()) for col in strings] + [pa.array(col, pa.int64()) for col in ints]
    arrays.append(pa.array(sources, pa.string()))
    return pa.RecordBatch.from_arrays(arrays, schema=SCHEMA)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--in", dest="inp", required=True, help="NDJSON input ('-' for stdin)")
    ap.add_argument("--out", required=True, help="output directory (created; existing part-*.parquet are removed)")
    ap.add_argument("--rows-per-file", type=int, default=1_000_000)
    ap.add_argument("--row-group", type=int, default=128 * 1024)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for old in os.listdir(args.out):
        if old.startswith("part-") and old.endswith(".parquet"):
            os.remove(os.path.join(args.out, old))
    t0 = time.perf_counter()
    writer = Writer(args.out, args.rows_per_file, args.row_group)
    src = sys.stdin if args.inp == "-" else open(args.inp, encoding="utf-8")
    chunk: list[str] = []
    seen = 0
    for line in src:
        if not line.strip():
            continue
        chunk.append(line)
        if len(chunk) == args.row_group:
            writer.write(convert(chunk, seen))
            seen += len(chunk)
            chunk = []
    if chunk:
        writer.write(convert(chunk, seen))
        seen += len(chunk)
    writer.close()
    elapsed = time.perf_counter() - t0
    size = sum(os.path.getsize(p) for p in writer.paths)
    in_size = os.path.getsize(args.inp) if args.inp != "-" else 0
    note = f", NDJSON {in_size / max(seen, 1):.0f} B/event" if in_size else ""
    print(f"wrote {writer.total_rows} rows to {len(writer.paths)} files, {size:,} bytes "
          f"({size / max(seen, 1):.1f} B/event{note}) in {elapsed:.1f} s ({seen / max(elapsed, 1e-9):,.0f} events/s)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
