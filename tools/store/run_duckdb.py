#!/usr/bin/env python3
"""Runs the hunting queries in DuckDB over the event-store Parquet files: the reference side of
the store's SQL differential test.

Usage:
    run_duckdb.py --parquet DIR --queries queries.sql --out results.json [--runs 5] [--only NAME ...]

`events` is a view over read_parquet('DIR/*.parquet'). Each query runs --runs times; the rows of
the first run and the median wall time (execute + fetch as Arrow) are recorded. Output JSON:

    {"engine": "duckdb", "version": "...", "parquet": DIR, "queries": [
        {"name": ..., "sql": ..., "columns": [...], "rows": [[...], ...], "row_count": N,
         "median_ms": 12.3, "timings_ms": [...]}, ...]}

Values are made JSON-exact: timestamps become RFC 3339 UTC strings with microseconds
("2026-10-01T05:00:00.000000Z"), integral decimals (DuckDB's HUGEINT sums) become integers,
floats stay floats (the queries avoid them), lists stay lists.
"""
from __future__ import annotations

import argparse
import datetime as dt
import decimal
import json
import os
import re
import statistics
import sys
import time

import duckdb
import pyarrow as pa

EPOCH = dt.datetime(1970, 1, 1)


def parse_queries(path: str) -> list[tuple[str, str, str]]:
    """(name, why, sql) for each `-- name:` block of a .sql file."""
    text = open(path, encoding="utf-8").read()
    out: list[tuple[str, str, str]] = []
    blocks = re.split(r"^-- name:\s*", text, flags=re.M)[1:]
    for block in blocks:
        first, _, body = block.partition("\n")
        name = first.strip()
        why = ""
        sql_lines = []
        for line in body.splitlines():
            m = re.match(r"^--\s*why:\s*(.*)", line)
            if m:
                why = m.group(1).strip()
            elif line.strip().startswith("--") and not sql_lines:
                continue
            else:
                sql_lines.append(line)
        sql = "\n".join(sql_lines).strip().rstrip(";").strip()
        if not sql:
            raise SystemExit(f"query {name!r} has no SQL")
        out.append((name, why, sql))
    names = [n for n, _, _ in out]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise SystemExit(f"duplicate query names: {sorted(dupes)}")
    return out


def rfc3339_micros(micros: int) -> str:
    stamp = EPOCH + dt.timedelta(microseconds=micros)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond:06d}Z"


def column_values(array: pa.ChunkedArray) -> list:
    t = array.type
    if pa.types.is_timestamp(t):
        # A timestamp without a zone is taken as UTC wall time, as DataFusion prints it.
        ints = array.cast(pa.timestamp("us", tz=t.tz)).cast(pa.int64()).to_pylist()
        return [None if v is None else rfc3339_micros(v) for v in ints]
    if pa.types.is_date(t):
        return [None if v is None else v.isoformat() for v in array.to_pylist()]
    values = array.to_pylist()
    return [to_json_value(v) for v in values]


def to_json_value(v):
    if isinstance(v, decimal.Decimal):
        return int(v) if v == v.to_integral_value() else str(v)
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return rfc3339_micros((v - EPOCH) // dt.timedelta(microseconds=1))
    if isinstance(v, list):
        return [to_json_value(x) for x in v]
    if isinstance(v, dict):
        return {k: to_json_value(x) for k, x in v.items()}
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    return v


def run_arrow(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """Executes a query and fetches the whole result as an Arrow table."""
    relation = con.sql(sql)
    # duckdb >= 1.4 names it to_arrow_table(); older releases arrow().
    getter = getattr(relation, "to_arrow_table", None) or getattr(relation, "arrow")
    table = getter()
    if isinstance(table, pa.RecordBatchReader):
        table = table.read_all()
    return table


def to_rows(table: pa.Table) -> tuple[list[str], list[list]]:
    cols = [column_values(table.column(i)) for i in range(table.num_columns)]
    rows = [list(r) for r in zip(*cols)] if cols else []
    return table.column_names, rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parquet", required=True, help="directory of *.parquet files")
    ap.add_argument("--glob", default="*.parquet",
                    help="files under --parquet to read (e.g. '*/*.parquet' for a Palisade segments directory)")
    ap.add_argument("--queries", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="DuckDB threads (0: DuckDB's default)")
    ap.add_argument("--only", nargs="*", help="run only these query names")
    args = ap.parse_args()

    queries = parse_queries(args.queries)
    if args.only:
        queries = [q for q in queries if q[0] in set(args.only)]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    glob = os.path.join(args.parquet, args.glob).replace("'", "''")
    con.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet('{glob}')")
    total = con.execute("SELECT count(*) FROM events").fetchall()[0][0]

    results = []
    failed = 0
    width = max(len(n) for n, _, _ in queries) if queries else 10
    print(f"{'query':<{width}}  {'rows':>7}  {'median ms':>10}")
    print(f"{'-' * width}  {'-' * 7}  {'-' * 10}")
    for name, why, sql in queries:
        timings = []
        columns: list[str] = []
        rows: list[list] = []
        error = None
        for run in range(args.runs):
            start = time.perf_counter()
            try:
                table = run_arrow(con, sql)
            except duckdb.Error as err:
                error = str(err)
                break
            timings.append((time.perf_counter() - start) * 1000)
            if run == 0:
                columns, rows = to_rows(table)
        entry = {"name": name, "why": why, "sql": sql}
        if error:
            failed += 1
            entry["error"] = error
            print(f"{name:<{width}}  {'ERROR':>7}  {error.splitlines()[0][:80]}")
        else:
            med = statistics.median(timings)
            entry.update({"columns": columns, "rows": rows, "row_count": len(rows),
                          "median_ms": round(med, 3), "timings_ms": [round(t, 3) for t in timings]})
            print(f"{name:<{width}}  {len(rows):>7}  {med:>10.1f}")
        results.append(entry)
    doc = {"engine": "duckdb", "version": duckdb.__version__, "parquet": os.path.abspath(args.parquet),
           "events": total, "runs": args.runs, "queries": results}
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    print(f"{len(queries)} queries over {total} events, {failed} failed; results in {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
