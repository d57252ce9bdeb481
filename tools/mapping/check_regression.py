#!/usr/bin/env python3
"""Check a Palisade field-mapping pipeline (windows.yml) against the SigmaHQ regression data.

For every regression case (regression_data/**/info.yml) this script:
  1. finds the rule named by the case (by id, in the rules* folders of the SigmaHQ corpus),
  2. resolves the rule's logsource to the most specific logsource entries of the pipeline
     (entries whose keys all appear in the rule's logsource with equal values; most keys wins;
     ties are united),
  3. loads the sample's JSON rendering, flattens each event the way the Palisade EVTX reader
     does (System children top level, EventData <Data Name=X> as X, UserData's inner element's
     children by name), and
  4. checks that at least `match_count` (default 1) sample events satisfy the `when` of one of
     the resolved sources.

A case fails ("mismatch") when the rule resolves to no entry, or when too few events satisfy
a source. With --fields it also lists, per case, rule fields (after the source's renames) that
none of the satisfying events carries: an information aid for checking renames, not an error
(rules often name fields inside OR branches or filters).

With --coverage it also reports every Windows-relevant logsource used by the rule corpus that
resolves to no entry.

Standard library + PyYAML only. Exit status 1 when there is a mismatch.

Usage:
  python3 tools/mapping/check_regression.py [--pipeline FILE] [--corpus DIR] [--fields] [--coverage] [-v]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
from collections import Counter

try:
    import yaml
except ImportError:  # pragma: no cover - environment problem, say so plainly
    sys.exit("check_regression.py needs PyYAML (pip install pyyaml)")

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
DEFAULT_PIPELINE = os.path.join(REPO, "crates", "palisade-sigma", "pipelines", "windows.yml")
DEFAULT_CORPUS = os.path.abspath(os.path.join(REPO, "..", "shared", "corpus", "sigma-rules"))

LOGSOURCE_KEYS = ("product", "category", "service")


# --------------------------------------------------------------------------------------------
# pipeline file
# --------------------------------------------------------------------------------------------

class PipelineError(Exception):
    pass


def load_pipeline(path: str) -> list[dict]:
    """Load and validate a pipeline file; returns its logsource entries."""
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    if not isinstance(doc, dict):
        raise PipelineError(f"{path}: top level must be a mapping")
    if doc.get("version") != 1:
        raise PipelineError(f"{path}: `version: 1` required, found {doc.get('version')!r}")
    for key in ("name", "logsources"):
        if key not in doc:
            raise PipelineError(f"{path}: missing `{key}`")
    unknown = set(doc) - {"version", "name", "description", "logsources"}
    if unknown:
        raise PipelineError(f"{path}: unknown top-level keys {sorted(unknown)}")
    entries = doc["logsources"]
    if not isinstance(entries, list):
        raise PipelineError(f"{path}: `logsources` must be a list")
    seen = set()
    for n, entry in enumerate(entries):
        where = f"{path}: logsources[{n}]"
        if not isinstance(entry, dict) or set(entry) - {"logsource", "sources"}:
            raise PipelineError(f"{where}: only `logsource` and `sources` are allowed")
        ls = entry.get("logsource")
        if not isinstance(ls, dict) or not ls or set(ls) - set(LOGSOURCE_KEYS):
            raise PipelineError(f"{where}: `logsource` must map some of {LOGSOURCE_KEYS}")
        key = tuple(sorted((k, str(v).lower()) for k, v in ls.items()))
        if key in seen:
            raise PipelineError(f"{where}: duplicate logsource {ls}")
        seen.add(key)
        sources = entry.get("sources")
        if not isinstance(sources, list) or not sources:
            raise PipelineError(f"{where}: `sources` must be a non-empty list")
        for m, src in enumerate(sources):
            swhere = f"{where}.sources[{m}]"
            if not isinstance(src, dict) or set(src) - {"when", "fields"} or "when" not in src:
                raise PipelineError(f"{swhere}: needs `when`, may have `fields`, nothing else")
            when = src["when"]
            if not isinstance(when, dict):
                raise PipelineError(f"{swhere}: `when` must be a mapping")
            for field, values in when.items():
                if not isinstance(values, list) or not values:
                    raise PipelineError(f"{swhere}: `when.{field}` must be a non-empty list")
                if any(isinstance(v, (dict, list)) or v is None for v in values):
                    raise PipelineError(f"{swhere}: `when.{field}` values must be scalars")
            fields = src.get("fields", {})
            if not isinstance(fields, dict) or any(
                not isinstance(v, str) or not isinstance(k, str) for k, v in fields.items()
            ):
                raise PipelineError(f"{swhere}: `fields` must map names to names")
    return entries


def norm(value) -> str:
    """Scalars compare as case-insensitive strings (EventID 1 == '1')."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).lower()


def resolve(entries: list[dict], logsource: dict) -> list[dict]:
    """Most specific entries whose keys all appear in the rule's logsource with equal values."""
    rule = {k: norm(v) for k, v in logsource.items() if k in LOGSOURCE_KEYS and v is not None}
    best, chosen = 0, []
    for entry in entries:
        ls = entry["logsource"]
        if all(k in rule and rule[k] == norm(v) for k, v in ls.items()):
            if len(ls) > best:
                best, chosen = len(ls), [entry]
            elif len(ls) == best:
                chosen.append(entry)
    return chosen


def satisfies(event: dict, when: dict) -> bool:
    for field, allowed in when.items():
        if field not in event:
            return False
        value = event[field]
        values = value if isinstance(value, list) else [value]
        allowed_norm = {norm(a) for a in allowed}
        if not any(v is not None and norm(v) in allowed_norm for v in values):
            return False
    return True


# --------------------------------------------------------------------------------------------
# events
# --------------------------------------------------------------------------------------------

def read_json_events(path: str) -> list[dict]:
    """A sample file holds one JSON object or several concatenated ones."""
    with open(path, encoding="utf-8-sig") as fh:
        text = fh.read().strip()
    decoder = json.JSONDecoder()
    events, pos = [], 0
    while pos < len(text):
        obj, pos = decoder.raw_decode(text, pos)
        if isinstance(obj, list):
            events.extend(obj)
        else:
            events.append(obj)
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return events


def _text(node):
    """Value of an XML-rendered node: its #text when it has attributes, else itself."""
    if isinstance(node, dict):
        if "#text" in node:
            return node["#text"]
        return None
    return node


def flatten(record: dict) -> dict:
    """Flatten an EVTX JSON rendering like the Palisade reader does."""
    event = record.get("Event", record)
    flat: dict = {}
    for name, node in (event.get("System") or {}).items():
        if isinstance(node, dict):
            attrs = node.get("#attributes") or {}
            for attr, value in attrs.items():
                flat[f"{name}_{attr}"] = value
            if "#text" in node:
                flat[name] = node["#text"]
        elif node is not None:
            flat[name] = node
    data = event.get("EventData")
    if isinstance(data, dict):
        for name, node in data.items():
            if name == "#attributes":
                continue
            value = _text(node) if isinstance(node, dict) else node
            if value is not None:
                flat[name] = value
    user = event.get("UserData")
    if isinstance(user, dict):
        for inner in user.values():
            if isinstance(inner, dict):
                for name, node in inner.items():
                    if name == "#attributes":
                        continue
                    value = _text(node) if isinstance(node, dict) else node
                    if value is not None:
                        flat[name] = value
    return flat


# --------------------------------------------------------------------------------------------
# rules
# --------------------------------------------------------------------------------------------

def load_rules(corpus: str) -> dict[str, tuple[str, dict]]:
    rules = {}
    for path in glob.glob(os.path.join(corpus, "rules*", "**", "*.yml"), recursive=True):
        try:
            with open(path, encoding="utf-8") as fh:
                doc = yaml.safe_load(fh)
        except yaml.YAMLError:
            continue
        if isinstance(doc, dict) and "id" in doc:
            rules[str(doc["id"])] = (path, doc)
    return rules


def detection_fields(detection: dict) -> set[str]:
    names: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            for key in node:
                base = str(key).split("|")[0]
                if base:
                    names.add(base)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for name, node in (detection or {}).items():
        if name not in ("condition", "timeframe"):
            walk(node)
    return names


def is_windows_logsource(ls: dict) -> bool:
    return ls.get("product") == "windows" or (not ls.get("product") and ls.get("category") == "antivirus")


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pipeline", default=DEFAULT_PIPELINE)
    ap.add_argument("--corpus", default=DEFAULT_CORPUS, help="SigmaHQ checkout (rules*, regression_data)")
    ap.add_argument("--fields", action="store_true", help="list rule fields missing from matched events")
    ap.add_argument("--coverage", action="store_true", help="report corpus Windows logsources with no entry")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every case")
    args = ap.parse_args()

    try:
        entries = load_pipeline(args.pipeline)
    except PipelineError as err:
        print(f"INVALID PIPELINE: {err}")
        return 1
    rules = load_rules(args.corpus)
    print(f"pipeline {args.pipeline}: {len(entries)} logsource entries")
    print(f"corpus {args.corpus}: {len(rules)} rules")

    cases = ok = 0
    mismatches: list[str] = []
    skipped: list[str] = []
    by_logsource: Counter = Counter()
    info_paths = sorted(glob.glob(os.path.join(args.corpus, "regression_data", "**", "info.yml"), recursive=True))
    for info_path in info_paths:
        rel = os.path.relpath(info_path, args.corpus)
        with open(info_path, encoding="utf-8") as fh:
            info = yaml.safe_load(fh) or {}
        tests = info.get("regression_tests_info") or []
        meta = (info.get("rule_metadata") or [{}])[0]
        rule_id = str(meta.get("id"))
        if not tests:
            skipped.append(f"{rel}: no regression_tests_info (commented out)")
            continue
        if rule_id not in rules:
            mismatches.append(f"{rel}: rule {rule_id} not found in corpus")
            continue
        rule_path, rule = rules[rule_id]
        logsource = {k: v for k, v in (rule.get("logsource") or {}).items() if k in LOGSOURCE_KEYS}
        for test in tests:
            if test.get("type") != "evtx":
                skipped.append(f"{rel}: test type {test.get('type')!r} is not evtx")
                continue
            cases += 1
            sample = os.path.join(args.corpus, os.path.splitext(test["path"])[0] + ".json")
            label = f"{rel} [{rule.get('title')}] {logsource}"
            by_logsource[json.dumps(logsource, sort_keys=True)] += 1
            chosen = resolve(entries, logsource)
            if not chosen:
                mismatches.append(f"{label}: logsource resolves to no pipeline entry")
                continue
            if not os.path.exists(sample):
                mismatches.append(f"{label}: sample JSON {sample} missing")
                continue
            events = [flatten(e) for e in read_json_events(sample)]
            sources = [s for entry in chosen for s in entry["sources"]]
            satisfied = []
            for ev in events:
                hit = [s for s in sources if satisfies(ev, s["when"])]
                if hit:
                    satisfied.append((ev, hit))
            need = int(test.get("match_count", 1) or 1)
            kinds = sorted({(str(e.get("Channel")), str(e.get("EventID"))) for e in events})
            if len(satisfied) < need:
                mismatches.append(
                    f"{label}: {len(satisfied)} of {len(events)} sample events satisfy a source "
                    f"(need {need}); sample has {kinds}; sources {[s['when'] for s in sources]}"
                )
                continue
            ok += 1
            if args.verbose:
                print(f"ok   {label}: {len(satisfied)}/{len(events)} events {kinds}")
            if args.fields:
                wanted = detection_fields(rule.get("detection"))
                missing = set()
                for name in wanted:
                    found = False
                    for ev, hit in satisfied:
                        for s in hit:
                            if (s.get("fields") or {}).get(name, name) in ev:
                                found = True
                    if not found:
                        missing.add(name)
                if missing:
                    print(f"info {rel}: rule fields absent from the matched events: {sorted(missing)}")

    print()
    print("regression cases by rule logsource:")
    for ls, n in sorted(by_logsource.items(), key=lambda x: -x[1]):
        print(f"  {n:4d}  {ls}")
    for line in skipped:
        print(f"skipped  {line}")
    for line in mismatches:
        print(f"MISMATCH {line}")
    print(f"\nregression: {cases} evtx cases, {ok} ok, {len(mismatches)} mismatches, {len(skipped)} skipped")

    if args.coverage:
        uncovered: Counter = Counter()
        total = 0
        for _path, rule in rules.values():
            ls = {k: v for k, v in (rule.get("logsource") or {}).items() if k in LOGSOURCE_KEYS}
            if not is_windows_logsource(ls):
                continue
            total += 1
            if not resolve(entries, ls):
                uncovered[json.dumps(ls, sort_keys=True)] += 1
        print(f"coverage: {total} Windows rules, {sum(uncovered.values())} with a logsource that resolves to no entry")
        for ls, n in uncovered.most_common():
            print(f"  UNCOVERED {n:4d}  {ls}")

    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
