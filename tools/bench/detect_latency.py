"""Live detection latency benchmark for `palisade serve` (issue #5).

Imports a rule set (default: the whole SigmaHQ set of the shared corpus) into a fresh data
directory, starts the server, sends NDJSON events over HTTP at a fixed offered rate for a fixed
time, and reads from the server's own `/metrics`:

- the histogram of the latency from an event batch entering the pipeline to its alerts being
  committed in the state database (`palisade_detect_alert_latency_seconds`), as p50 and p99
  (interpolated inside the 25 %-wide buckets);
- events examined, alerts raised and recorded;

and from the client: events offered, acknowledged, refused (429/503), and the achieved rate.

  python3 tools/bench/flatten_evtx.py --evtx-root ../shared/corpus/evtx --out /tmp/win.ndjson --min-events 200000
  python3 tools/bench/detect_latency.py --palisade target/release/palisade --events /tmp/win.ndjson --rate 50000 --seconds 60

`--background N` mixes N generated benign events (Windows logons and process starts of common
programs) per corpus event, for a stream where detections are rare as in production; the EVTX
corpus alone is attack samples, so about a third of its events match a rule.

Only the standard library; every request body is built before the clock starts.
"""

import argparse
import http.client
import json
import os
import random
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ingest import Server, log  # noqa: E402

BENIGN_IMAGES = [
    ("C:\\Windows\\System32\\svchost.exe", "C:\\Windows\\System32\\services.exe", "svchost.exe -k netsvcs -p"),
    ("C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe", "C:\\Windows\\explorer.exe", "chrome.exe --type=renderer"),
    ("C:\\Windows\\System32\\taskhostw.exe", "C:\\Windows\\System32\\svchost.exe", "taskhostw.exe"),
    ("C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE", "C:\\Windows\\explorer.exe", "OUTLOOK.EXE"),
]


def benign(rng, n):
    host = f"WS{rng.randrange(500):04d}.corp.example"
    user = f"user{rng.randrange(2000)}"
    if n % 2:
        image, parent, command = BENIGN_IMAGES[rng.randrange(len(BENIGN_IMAGES))]
        return {
            "Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1, "Computer": host,
            "Image": image, "ParentImage": parent, "CommandLine": command, "User": f"CORP\\{user}",
            "ProcessId": rng.randrange(100, 60000), "IntegrityLevel": "Medium",
        }
    return {
        "Channel": "Security", "EventID": 4624, "Computer": host, "TargetUserName": user,
        "TargetDomainName": "CORP", "LogonType": 2, "IpAddress": "-", "WorkstationName": host,
        "LogonProcessName": "User32", "AuthenticationPackageName": "Negotiate",
    }


def histogram(metrics, name):
    buckets = []
    for line in metrics.splitlines():
        match = re.match(rf'{name}_bucket\{{le="([^"]+)"\}} (\d+)', line)
        if match:
            bound = float("inf") if match.group(1) == "+Inf" else float(match.group(1))
            buckets.append((bound, int(match.group(2))))
    return sorted(buckets)


def quantile(buckets, q):
    total = buckets[-1][1] if buckets else 0
    if total == 0:
        return None
    target = q * total
    lower, below = 0.0, 0
    for bound, count in buckets:
        if count >= target:
            if bound == float("inf"):
                return lower
            share = (target - below) / max(count - below, 1)
            return lower + (bound - lower) * share
        lower, below = bound, count
    return lower


def counter(metrics, name):
    match = re.search(rf"^{name}(?:_total)? (\d+)", metrics, re.M)
    return int(match.group(1)) if match else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--palisade", required=True)
    parser.add_argument("--events", required=True, help="NDJSON events (flatten_evtx.py output)")
    parser.add_argument("--rules", default="../shared/corpus/sigma-rules/rules")
    parser.add_argument("--rate", type=int, default=50_000, help="offered events per second")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--batch", type=int, default=1000, help="events per request")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--background", type=int, default=0, help="benign events per corpus event")
    parser.add_argument("--work", default="/tmp/palisade-detect-bench")
    args = parser.parse_args()

    corpus = [line.rstrip("\n") for line in open(args.events, encoding="utf-8") if line.strip()]
    total = args.rate * args.seconds
    rng = random.Random(7)
    lines = []
    n = 0
    while len(lines) < total:
        lines.append(corpus[n % len(corpus)])
        n += 1
        for _ in range(args.background):
            lines.append(json.dumps(benign(rng, len(lines))))
    lines = lines[:total]
    bodies = ["\n".join(lines[i:i + args.batch]).encode() + b"\n" for i in range(0, total, args.batch)]
    log(f"{total:,} events in {len(bodies):,} requests of {args.batch}, offered at {args.rate:,}/s")

    server = Server(args.palisade, args.work, "[server]\nmax_inflight_ingests = 16\n")
    # Import the rules into the data directory, then reload them into the running server.
    imported = subprocess.run(
        [args.palisade, "--data-dir", server.data, "-q", "--format", "json", "rules", "import", args.rules, "--into", "bench"],
        check=True, capture_output=True, text=True,
    )
    log(f"rules import: {imported.stdout.strip()}")
    started = time.monotonic()
    status, _, data = server.request("POST", "/api/v1/rules/reload")
    assert status == 200, data
    log(f"rules reload: {data.decode()} in {time.monotonic() - started:.2f} s")

    host, port = server.http.rsplit(":", 1)
    interval = args.batch / args.rate * args.connections
    results = {"acked": 0, "refused": 0, "requests": [], "lock": threading.Lock()}

    def sender(index):
        connection = http.client.HTTPConnection(host, int(port), timeout=120)
        next_at = start + index * args.batch / args.rate
        for number in range(index, len(bodies), args.connections):
            pause = next_at - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            next_at += interval
            sent = time.monotonic()
            connection.request("POST", "/api/v1/ingest", body=bodies[number],
                               headers={"Authorization": f"Bearer {server.token}", "Content-Type": "application/x-ndjson"})
            response = connection.getresponse()
            response.read()
            elapsed = time.monotonic() - sent
            events = bodies[number].count(b"\n")
            with results["lock"]:
                results["requests"].append(elapsed)
                if response.status == 200:
                    results["acked"] += events
                else:
                    results["refused"] += events

    start = time.monotonic() + 0.5
    threads = [threading.Thread(target=sender, args=(i,)) for i in range(args.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    duration = time.monotonic() - start
    time.sleep(3)  # the alert writer drains its queue
    _, _, metrics = server.request("GET", "/metrics")
    metrics = metrics.decode()
    rss = server.stop()
    buckets = histogram(metrics, "palisade_detect_alert_latency_seconds")
    requests = sorted(results["requests"])
    report = {
        "offered_rate": args.rate,
        "seconds": round(duration, 2),
        "events_offered": total,
        "events_acked": results["acked"],
        "events_refused": results["refused"],
        "achieved_rate": round(results["acked"] / duration),
        "examined": counter(metrics, "palisade_detect_examined"),
        "alerts_raised": counter(metrics, "palisade_detect_alerts_raised"),
        "alerts_recorded": counter(metrics, "palisade_detect_alerts_recorded"),
        "alert_latency_p50_ms": round(1000 * (quantile(buckets, 0.5) or 0), 1),
        "alert_latency_p99_ms": round(1000 * (quantile(buckets, 0.99) or 0), 1),
        "request_p50_ms": round(1000 * requests[len(requests) // 2], 1) if requests else None,
        "request_p99_ms": round(1000 * requests[int(len(requests) * 0.99)], 1) if requests else None,
        "peak_rss_mib": round(rss),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
