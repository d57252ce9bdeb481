#!/usr/bin/env python3
"""Cross-checks queries.sql in Apache DataFusion (the `datafusion` Python package, the same
query engine the Rust store embeds) against the rows run_duckdb.py recorded.

Usage:
    check_datafusion.py --parquet DIR --queries queries.sql --results results.json

A portability check for the query set, not a test of the store itself: it needs no Rust build.
Exits non-zero when any query errors or returns different rows (compared as JSON values in
order, since every query has a total ORDER BY).
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import pyarrow as pa
from datafusion import SessionConfig, SessionContext

from run_duckdb import column_values, parse_queries


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parquet", required=True)
    ap.add_argument("--queries", required=True)
    ap.add_argument("--results", required=True, help="results.json from run_duckdb.py")
    args = ap.parse_args()

    expected = {q["name"]: q for q in json.load(open(args.results, encoding="utf-8"))["queries"]}
    ctx = SessionContext(SessionConfig().with_target_partitions(2))
    ctx.register_parquet("events", args.parquet.rstrip("/") + "/", file_extension=".parquet")
    bad = 0
    for name, _why, sql in parse_queries(args.queries):
        start = time.perf_counter()
        try:
            batches = ctx.sql(sql).collect()
        except Exception as err:  # noqa: BLE001 - report every engine error the same way
            print(f"{name}: ERROR {str(err).splitlines()[0][:200]}")
            bad += 1
            continue
        ms = (time.perf_counter() - start) * 1000
        table = pa.Table.from_batches(batches) if batches else None
        rows = []
        if table is not None and table.num_rows:
            cols = [column_values(table.column(i)) for i in range(table.num_columns)]
            rows = [list(r) for r in zip(*cols)]
        want = expected.get(name, {}).get("rows")
        if want is None:
            print(f"{name}: no DuckDB result to compare")
            bad += 1
        elif rows != want:
            bad += 1
            print(f"{name}: MISMATCH duckdb {len(want)} rows, datafusion {len(rows)} rows")
            for i, (a, b) in enumerate(zip(want, rows)):
                if a != b:
                    print(f"    first difference at row {i}: duckdb {a} datafusion {b}")
                    break
        else:
            print(f"{name}: ok ({len(rows)} rows, {ms:.0f} ms)")
    print(f"{bad} of {len(expected)} queries differ or fail")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
