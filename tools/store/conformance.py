#!/usr/bin/env python3
"""Query conformance and latency, Palisade against DuckDB on the same Parquet files.

Generates a seeded data set, imports it with `palisade ingest`, then runs every query of
queries.sql twice over the store's own segment files: once through Palisade's engine
(`palisade store bench-queries`, the read-only DataFusion path every user query takes) and
once in DuckDB reading those same files. Rows must be equal, in order; latencies are printed
side by side with their ratio. Exit status 1 on any difference or error.

    python tools/store/conformance.py --palisade target/debug/palisade --events 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$")


def canonical(value):
    """One spelling per value: times as µs RFC 3339 UTC, lists element-wise."""
    if isinstance(value, str) and TIME.match(value):
        text = value.replace(" ", "T").replace("Z", "+00:00")
        stamp = dt.datetime.fromisoformat(text)
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.timezone.utc)
        stamp = stamp.astimezone(dt.timezone.utc)
        return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond:06d}Z"
    if isinstance(value, list):
        return [canonical(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def run(command: list[str], **kwargs) -> float:
    print("+", " ".join(command), flush=True)
    start = time.perf_counter()
    subprocess.run(command, check=True, **kwargs)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--palisade", required=True, help="the palisade binary")
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--queries", default=os.path.join(HERE, "queries.sql"))
    ap.add_argument("--work", help="working directory (default: a temporary one)")
    ap.add_argument("--runs", type=int, default=1, help="timed runs per query and engine")
    ap.add_argument("--threads", type=int, default=0, help="DuckDB threads (0: its default)")
    ap.add_argument("--report", help="write the side-by-side results as JSON here")
    ap.add_argument("--keep", action="store_true", help="reuse the data set in --work if present")
    ap.add_argument("--reuse-ndjson", action="store_true",
                    help="reuse --work/events.ndjson if present instead of generating it")
    args = ap.parse_args()

    work = args.work or tempfile.mkdtemp(prefix="palisade-conformance-")
    os.makedirs(work, exist_ok=True)
    events_file = os.path.join(work, "events.ndjson")
    data = os.path.join(work, "data")
    ingest_seconds = None
    raw_bytes = None
    if not (args.keep and os.path.isdir(os.path.join(data, "segments"))):
        if os.path.exists(data):
            subprocess.run(["rm", "-rf", data], check=True)
        if not (args.reuse_ndjson and os.path.exists(events_file)):
            run([sys.executable, os.path.join(HERE, "generate_events.py"), "--events",
                 str(args.events), "--seed", str(args.seed), "--out", events_file])
        raw_bytes = os.path.getsize(events_file)
        ingest_seconds = run([args.palisade, "--data-dir", data, "ingest", "-q", events_file])
    stats = json.loads(subprocess.run(
        [args.palisade, "--data-dir", data, "store", "stats", "--format", "json"],
        check=True, capture_output=True, text=True).stdout)

    ours_file = os.path.join(work, "palisade.json")
    duck_file = os.path.join(work, "duckdb.json")
    run([args.palisade, "--data-dir", data, "store", "bench-queries", args.queries,
         "--runs", str(args.runs), "--out", ours_file])
    duck = [sys.executable, os.path.join(HERE, "run_duckdb.py"), "--parquet",
            os.path.join(data, "segments"), "--glob", "*/*.parquet", "--queries", args.queries,
            "--out", duck_file, "--runs", str(args.runs)]
    if args.threads:
        duck += ["--threads", str(args.threads)]
    run(duck)

    ours = {q["name"]: q for q in json.load(open(ours_file, encoding="utf-8"))["queries"]}
    theirs = json.load(open(duck_file, encoding="utf-8"))
    if theirs["events"] != stats["events"]:
        print(f"DuckDB sees {theirs['events']} events, Palisade {stats['events']}")
        return 1
    failures = 0
    ratios = []
    report = []
    width = max(len(q["name"]) for q in theirs["queries"])
    print(f"\n{'query':<{width}}  {'rows':>6}  {'palisade ms':>11}  {'duckdb ms':>9}  {'ratio':>5}  result")
    for reference in theirs["queries"]:
        name = reference["name"]
        mine = ours.get(name, {"error": "missing"})
        verdict = "same rows"
        if "error" in reference or "error" in mine:
            verdict = f"ERROR palisade={mine.get('error')} duckdb={reference.get('error')}"
        elif [canonical(r) for r in mine["rows"]] != [canonical(r) for r in reference["rows"]]:
            verdict = "DIFFERENT ROWS"
            for idx, (a, b) in enumerate(zip(mine["rows"], reference["rows"])):
                if canonical(a) != canonical(b):
                    verdict += f" (first at row {idx}: palisade {a} duckdb {b})"
                    break
            else:
                verdict += f" (palisade {len(mine['rows'])} rows, duckdb {len(reference['rows'])})"
        ok = verdict == "same rows"
        failures += not ok
        ours_ms = mine.get("median_ms")
        duck_ms = reference.get("median_ms")
        ratio = ours_ms / duck_ms if ok and duck_ms else None
        if ratio:
            ratios.append(ratio)
        report.append({"name": name, "rows": reference.get("row_count"), "palisade_ms": ours_ms,
                       "duckdb_ms": duck_ms, "ratio": ratio, "result": verdict})
        print(f"{name:<{width}}  {str(reference.get('row_count', '-')):>6}  {ours_ms or 0:>11.1f}  "
              f"{duck_ms or 0:>9.1f}  {ratio or 0:>5.2f}  {verdict}")
    median_ratio = statistics.median(ratios) if ratios else None
    print(f"\n{len(theirs['queries']) - failures} of {len(theirs['queries'])} queries return the same rows "
          f"as DuckDB {theirs['version']} over {stats['events']} events in {stats['segments']} segments; "
          f"median latency ratio palisade/duckdb {median_ratio or 0:.2f}")
    if ingest_seconds:
        print(f"ingest: {stats['events']} events in {ingest_seconds:.1f} s = {stats['events'] / ingest_seconds:,.0f} events/s; "
              f"raw NDJSON {raw_bytes:,} B, segments {stats['segment_bytes']:,} B "
              f"({raw_bytes / max(stats['segment_bytes'], 1):.1f}x smaller, "
              f"{stats['segment_bytes'] / max(stats['events'], 1):.0f} B/event)")
    if args.report:
        with open(args.report, "w", encoding="utf-8") as fh:
            json.dump({"events": stats["events"], "segments": stats["segments"],
                       "segment_bytes": stats["segment_bytes"], "raw_ndjson_bytes": raw_bytes,
                       "ingest_seconds": ingest_seconds, "duckdb": theirs["version"],
                       "median_ratio": median_ratio, "queries": report}, fh, indent=1)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
