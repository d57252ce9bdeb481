#!/usr/bin/env python3
"""Writes the EVTX corpus as flat NDJSON Windows events (System fields + EventData/UserData),
repeated until at least --min-events lines, for side-by-side engine benchmarks (Palisade vs
RSigma). Needs the `evtx` package (pyevtx-rs): pip install evtx.

Flattening follows the Sigma field naming: System children by name, attributes as
Element_Attribute (Provider_Name), EventData <Data Name=X> as X, UserData children by name.
"""
import argparse
import json
import pathlib

import evtx


def flatten(record):
    event = record.get("Event", record)
    out = {}
    for name, value in (event.get("System") or {}).items():
        if isinstance(value, dict):
            if "#text" in value:
                out[name] = value["#text"]
            for attr, attr_value in (value.get("#attributes") or {}).items():
                out[f"{name}_{attr}"] = attr_value
        else:
            out[name] = value
    data = {}
    for section in ("EventData", "UserData"):
        block = event.get(section)
        if not isinstance(block, dict):
            continue
        if section == "UserData":
            for inner in block.values():
                if isinstance(inner, dict):
                    data.update({k: v for k, v in inner.items() if k != "#attributes"})
        else:
            data.update({k: v for k, v in block.items() if k != "#attributes"})
    for name, value in data.items():
        if isinstance(value, dict):
            value = value.get("#text", json.dumps(value))
        out[name] = value
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--evtx-root", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--min-events", type=int, default=200_000)
    args = parser.parse_args()
    events = []
    for path in sorted(pathlib.Path(args.evtx_root).rglob("*.evtx")):
        for record in evtx.PyEvtxParser(str(path)).records_json():
            events.append(json.dumps(flatten(json.loads(record["data"])), ensure_ascii=False))
    with open(args.out, "w", encoding="utf-8") as out:
        written = 0
        while written < args.min_events:
            for line in events:
                out.write(line + "\n")
            written += len(events)
    print(f"{len(events)} distinct events, {written} lines -> {args.out}")


if __name__ == "__main__":
    main()
