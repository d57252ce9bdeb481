"""End-to-end ingest benchmark and flood test for `palisade serve`.

Starts the server under `/usr/bin/time -v` on a fresh data directory, sends events the way
real shippers do, and measures how long until every event is stored (syslog: until the store
counts them all; HTTP: until every request is acknowledged, which means durable), then the
server's peak RSS.

  python3 tools/bench/ingest.py --palisade target/release/palisade --mode syslog-tcp --events 1000000
  python3 tools/bench/ingest.py --palisade target/release/palisade --mode http-bulk --events 1000000
  python3 tools/bench/ingest.py --palisade target/release/palisade --mode flood --events 500000

Modes:
  syslog-tcp  RFC 5424/3164 lines, octet-counted, over --connections TCP connections: sshd,
              sudo, PAM, kernel UFW, dhcpd, named, postfix and lines no parser knows.
  http-bulk   Elastic `_bulk` requests of --batch ECS documents from --connections clients,
              retrying 429/503 after Retry-After.
  rsyslog-tcp the syslog-tcp load into Debian's rsyslogd writing one JSON line per message
              (the peer of PERFORMANCE.md): until every line is written, its CPU and RSS.
  flood       http-bulk with 8x the clients and a small ingest limit (so most requests are
              refused at first), then checks that every acknowledged event is stored exactly
              once; and a syslog TCP flood over 16 connections that must lose nothing.

`--config '[detect];enabled = false'` adds lines (`;` between them) to the server's config
file, to measure a setting side by side; `--wrap` runs the server under a profiler.

Only the standard library: the load generator must not be the bottleneck, so every request
body is built before the clock starts.
"""

import argparse
import http.client
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time


def log(message):
    print(message, file=sys.stderr, flush=True)


def time_report(path):
    """Peak RSS (MiB) and CPU seconds (user + system) from a `/usr/bin/time -v` report."""
    text = open(path).read()
    kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    cpu = sum(
        float(re.search(rf"{kind} time \(seconds\): ([0-9.]+)", text).group(1))
        for kind in ("User", "System")
    )
    return kib / 1024, cpu


def kernel_report(path):
    """User and system CPU seconds, and minor page faults, from a `/usr/bin/time -v` report.

    On these virtual machines the first touch of memory is dear, so system time and faults
    move with how much fresh memory (heap or page cache) a run takes, apart from its work.
    """
    text = open(path).read()
    user, system = (
        float(re.search(rf"{kind} time \(seconds\): ([0-9.]+)", text).group(1))
        for kind in ("User", "System")
    )
    faults = int(re.search(r"Minor \(reclaiming a frame\) page faults: (\d+)", text).group(1))
    return user, system, faults


class Server:
    def __init__(self, palisade, work, config_text="", wrap=()):
        self.work = work
        self.palisade = palisade
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        self.data = os.path.join(work, "data")
        config = os.path.join(work, "palisade.toml")
        with open(config, "w") as out:
            out.write(config_text)
        base = [palisade, "--data-dir", self.data, "--config", config]
        self.token = subprocess.run(
            base + ["token", "create", "--name", "bench", "--role", "admin", "--format", "json"],
            check=True, capture_output=True, text=True,
        ).stdout
        self.token = json.loads(self.token)["token"]
        self.time_log = os.path.join(work, "time.txt")
        self.process = subprocess.Popen(
            ["/usr/bin/time", "-v", "-o", self.time_log] + list(wrap) + base
            + ["serve", "--http", "127.0.0.1:0", "--syslog-udp", "off", "--syslog-tcp", "127.0.0.1:0"],
            stderr=subprocess.PIPE, text=True, env=dict(os.environ, PALISADE_LOG="warn"),
        )
        self.syslog = self.http = None
        for line in self.process.stderr:
            if "syslog TCP listening on tcp://" in line:
                self.syslog = line.split("tcp://")[1].strip()
            if "HTTP API listening on http://" in line:
                self.http = line.split("http://")[1].strip()
                break
        threading.Thread(target=lambda: [None for _ in self.process.stderr], daemon=True).start()

    def request(self, method, path, body=None, headers=None):
        host, port = self.http.rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=120)
        all_headers = {"Authorization": f"Bearer {self.token}"}
        all_headers.update(headers or {})
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, response.getheader("Retry-After"), data

    def stored(self):
        status, _, data = self.request("GET", "/api/v1/stats")
        assert status == 200, data
        return json.loads(data)["events"]

    def query(self, sql):
        status, _, data = self.request(
            "POST", "/api/v1/query", json.dumps({"query": sql}), {"Content-Type": "application/json"}
        )
        assert status == 200, data
        return json.loads(data)["rows"]

    def stop(self):
        """SIGTERM (a clean stop), then the peak RSS in MiB from /usr/bin/time."""
        # /usr/bin/time forwards nothing: signal the server (under any profiler wrapping it).
        for pid in os.listdir("/proc"):
            try:
                argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
            except (OSError, ValueError):
                continue
            if self.data.encode() not in argv:
                continue
            # The server itself; under valgrind, the tool's process, which runs the server in
            # place (it passes the signal on).
            under_valgrind = os.path.basename(argv[0]).startswith(b"valgrind") and self.palisade.encode() in argv
            if argv[0] == self.palisade.encode() or under_valgrind:
                os.kill(int(pid), signal.SIGTERM)
        self.process.wait(timeout=120)
        rss, self.cpu = time_report(self.time_log)
        self.user, self.sys, self.faults = kernel_report(self.time_log)
        return rss


class Rsyslog:
    """rsyslogd (Debian's) as the peer: TCP in (octet-counted or LF framing), each message
    written as one JSON line with the fields it parses itself (time, host, program, pid,
    severity, facility, message). The same `syslog` address and `stored()` as `Server`."""

    def __init__(self, work):
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        self.output = os.path.join(work, "out.json")
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        config = os.path.join(work, "rsyslog.conf")
        with open(config, "w") as out:
            out.write(f"""
global(workDirectory="{work}")
module(load="imtcp")
template(name="json" type="list" option.jsonf="on") {{
  property(outname="@timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="host" name="hostname" format="jsonf")
  property(outname="program" name="programname" format="jsonf")
  property(outname="pid" name="procid" format="jsonf")
  property(outname="severity" name="syslogseverity-text" format="jsonf")
  property(outname="facility" name="syslogfacility-text" format="jsonf")
  property(outname="message" name="msg" format="jsonf")
}}
ruleset(name="bench") {{
  action(type="omfile" file="{self.output}" template="json")
}}
input(type="imtcp" port="{port}" address="127.0.0.1" ruleset="bench")
""")
        self.time_log = os.path.join(work, "time.txt")
        self.process = subprocess.Popen(
            ["/usr/bin/time", "-v", "-o", self.time_log, "rsyslogd", "-n", "-f", config,
             "-i", os.path.join(work, "rsyslogd.pid")],
            stderr=subprocess.DEVNULL,
        )
        self.syslog = f"127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.counted = 0
        self.offset = 0

    def stored(self):
        """Lines written so far (read on from where the last call stopped)."""
        try:
            with open(self.output, "rb") as output:
                output.seek(self.offset)
                chunk = output.read()
        except FileNotFoundError:
            return 0
        self.offset += len(chunk)
        self.counted += chunk.count(b"\n")
        return self.counted

    def stop(self):
        pid = int(open(os.path.join(os.path.dirname(self.output), "rsyslogd.pid")).read())
        os.kill(pid, signal.SIGTERM)
        self.process.wait(timeout=60)
        rss, self.cpu = time_report(self.time_log)
        return rss


SYSLOG_TEMPLATES = [
    "<38>{bsd} bastion sshd[{pid}]: Failed password for invalid user {user} from 198.51.100.{a} port {port} ssh2",
    "<38>{bsd} bastion sshd[{pid}]: Accepted publickey for {user} from 203.0.113.{a} port {port} ssh2: RSA SHA256:{hash}",
    "<86>1 {iso} web-{a}.example.com sudo {pid} - - {user} : TTY=pts/{b} ; PWD=/home/{user} ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx",
    "<38>{bsd} bastion sshd[{pid}]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=198.51.100.{a}  user={user}",
    "<4>{bsd} fw kernel: [{uptime}] [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=203.0.113.{a} DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=49 ID={pid} DF PROTO=TCP SPT={port} DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0",
    "<30>{bsd} gw dhcpd[{pid}]: DHCPACK on 192.0.2.{a} to 00:16:3e:{b:02x}:{c:02x}:{d:02x} (laptop-{b}) via eth0",
    "<30>{bsd} ns1 named[{pid}]: client @0x7f1b2c00{b:02x}10 192.0.2.{a}#{port} (host{c}.example.com): query: host{c}.example.com IN A +E(0)K (192.0.2.1)",
    "<22>{bsd} mx postfix/smtpd[{pid}]: NOQUEUE: reject: RCPT from unknown[203.0.113.{a}]: 554 5.7.1 <{user}@example.org>: Relay access denied; from=<spam@example.net> to=<{user}@example.org> proto=ESMTP helo=<example.net>",
    "<134>1 {iso} app-{b} billing {pid} - - request {hash} completed in {port} ms for tenant {user}",
]

USERS = ["alice", "bob", "carol", "dave", "erin", "mallory", "oracle", "admin", "test", "svc_backup"]


def syslog_frames(count, seed):
    rng = random.Random(seed)
    frames = []
    start = 1764547200  # 2025-12-01T00:00:00Z
    for n in range(count):
        t = start + n // 50
        template = SYSLOG_TEMPLATES[rng.randrange(len(SYSLOG_TEMPLATES))]
        line = template.format(
            bsd=time.strftime("%b %d %H:%M:%S", time.gmtime(t)).replace(" 0", "  ", 1),
            iso=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{n % 1000:03d}Z",
            pid=1000 + n % 30000, user=USERS[rng.randrange(len(USERS))], a=rng.randrange(1, 255),
            b=rng.randrange(256), c=rng.randrange(256), d=rng.randrange(256),
            port=rng.randrange(1024, 65535), hash=f"{rng.getrandbits(64):016x}", uptime=f"{n / 100:.6f}",
        ).encode()
        frames.append(b"%d %s" % (len(line), line))
    return frames


def bulk_documents(count, seed, first_seq=0):
    rng = random.Random(seed)
    docs = []
    for n in range(first_seq, first_seq + count):
        user = USERS[rng.randrange(len(USERS))]
        outcome = "failure" if rng.random() < 0.3 else "success"
        docs.append(json.dumps({
            "@timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1764547200 + n // 50)) + "Z",
            "event": {"dataset": "bench.auth", "kind": "event", "category": ["authentication"],
                      "action": "logon", "outcome": outcome},
            "user": {"name": user, "domain": "EXAMPLE"},
            "source": {"ip": f"203.0.113.{rng.randrange(1, 255)}", "port": rng.randrange(1024, 65535)},
            "host": {"name": f"ws-{rng.randrange(500):03d}.example.com"},
            "process": {"name": "winlogon.exe", "pid": rng.randrange(100, 60000)},
            "bench": {"seq": n},
            "message": f"An account {'failed to log on' if outcome == 'failure' else 'was successfully logged on'}: {user}",
        }, separators=(",", ":")))
    return docs


def bulk_bodies(docs, batch):
    action = b'{"index":{"_index":"bench-auth"}}\n'
    bodies = []
    for start in range(0, len(docs), batch):
        chunk = docs[start:start + batch]
        bodies.append(b"".join(action + doc.encode() + b"\n" for doc in chunk))
    return bodies


def send_syslog(server, frames, connections):
    host, port = server.syslog.rsplit(":", 1)
    parts = [frames[i::connections] for i in range(connections)]
    payloads = [b"".join(part) for part in parts]

    def sender(payload):
        with socket.create_connection((host, int(port))) as connection:
            view = memoryview(payload)
            for start in range(0, len(view), 1 << 20):
                connection.sendall(view[start:start + (1 << 20)])

    threads = [threading.Thread(target=sender, args=(payload,)) for payload in payloads]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent = time.monotonic() - started
    total = len(frames)
    while server.stored() < total:
        time.sleep(0.05)
    return time.monotonic() - started, sent, sum(map(len, payloads))


def send_bulk(server, bodies, connections):
    """Sends every body, retrying refusals; returns elapsed, refusals, bytes."""
    queue = list(enumerate(bodies))
    lock = threading.Lock()
    refused = [0]
    errors = []

    def client():
        while True:
            with lock:
                if not queue:
                    return
                index, body = queue.pop()
            while True:
                status, retry, data = server.request(
                    "POST", "/_bulk", body, {"Content-Type": "application/x-ndjson"}
                )
                if status == 200:
                    # The answer's head says whether any item failed; only then is the whole
                    # answer (one item per document) parsed. Parsing every answer in Python
                    # was most of the load generator's CPU, on the cores the server needs.
                    if b'"errors":false' not in data[:256] and json.loads(data).get("errors"):
                        errors.append(f"body {index}: item errors")
                    break
                if status in (429, 503):
                    with lock:
                        refused[0] += 1
                    time.sleep(float(retry or 0.05) * random.uniform(0.05, 0.2))
                    continue
                errors.append(f"body {index}: HTTP {status} {data[:200]!r}")
                break

    threads = [threading.Thread(target=client) for _ in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:5]
    return time.monotonic() - started, refused[0], sum(map(len, bodies))


def cpu_seconds():
    """CPU time (user + system) of this process and its threads so far: the load generator's."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def report(name, events, elapsed, payload_bytes, rss, extra="", server=None, sender_cpu=None):
    result = {
        "mode": name, "events": events, "seconds": round(elapsed, 2),
        "events_per_s": round(events / elapsed), "mb_per_s": round(payload_bytes / elapsed / 1e6, 1),
        "peak_rss_mib": round(rss), "note": extra,
    }
    if server is not None:
        # CPU per event is what the rate would be bounded by with the sender on another
        # machine: less noisy than wall time on a shared 2-core box.
        result["server_cpu_s"] = round(server.cpu, 2)
        result["server_cpu_us_per_event"] = round(server.cpu / events * 1e6, 2)
        if hasattr(server, "faults"):
            result["server_user_s"] = round(server.user, 2)
            result["server_sys_s"] = round(server.sys, 2)
            result["server_minor_faults"] = server.faults
    if sender_cpu is not None:
        result["sender_cpu_s"] = round(sender_cpu, 2)
    print(json.dumps(result), flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--palisade", required=True)
    parser.add_argument("--mode", choices=["syslog-tcp", "http-bulk", "flood", "rsyslog-tcp"], required=True)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--work", default="target/bench-ingest")
    parser.add_argument("--fsync", default="always")
    parser.add_argument("--wrap", default="", help="a profiler command to run the server under, e.g. 'perf record -g -o perf.data'")
    parser.add_argument("--config", default="", help="more config file text, `;` between lines, e.g. '[detect];enabled = false'")
    args = parser.parse_args()
    config = f'[store]\nfsync = "{args.fsync}"\n'
    if args.config:
        config += args.config.replace(";", "\n") + "\n"

    if args.mode == "syslog-tcp":
        log(f"generating {args.events:,} syslog frames")
        frames = syslog_frames(args.events, 1)
        server = Server(args.palisade, args.work, config, args.wrap.split())
        before = cpu_seconds()
        elapsed, sent, size = send_syslog(server, frames, args.connections)
        sender = cpu_seconds() - before
        parsed = server.query("SELECT count(*) AS n FROM events WHERE \"event.action\" IS NOT NULL")[0]["n"]
        rss = server.stop()
        report("syslog-tcp", args.events, elapsed, size, rss,
               f"sending took {sent:.1f} s; {parsed:,} events got an event.action", server, sender)
    elif args.mode == "rsyslog-tcp":
        log(f"generating {args.events:,} syslog frames")
        frames = syslog_frames(args.events, 1)
        peer = Rsyslog(args.work)
        before = cpu_seconds()
        elapsed, sent, size = send_syslog(peer, frames, args.connections)
        sender = cpu_seconds() - before
        rss = peer.stop()
        report("rsyslog-tcp", args.events, elapsed, size, rss,
               f"rsyslogd {subprocess.run(['rsyslogd', '-v'], capture_output=True, text=True).stdout.split()[1]}"
               f" writing JSON lines; sending took {sent:.1f} s", peer, sender)
    elif args.mode == "http-bulk":
        log(f"generating {args.events:,} documents")
        bodies = bulk_bodies(bulk_documents(args.events, 2), args.batch)
        server = Server(args.palisade, args.work, config, args.wrap.split())
        before = cpu_seconds()
        elapsed, refused, size = send_bulk(server, bodies, args.connections)
        sender = cpu_seconds() - before
        stored = server.stored()
        rss = server.stop()
        assert stored == args.events, (stored, args.events)
        report("http-bulk", args.events, elapsed, size, rss, f"{refused} refusals retried", server, sender)
    else:
        log(f"generating {args.events:,} documents and syslog frames")
        bodies = bulk_bodies(bulk_documents(args.events, 3), 1000)
        config += "[server]\nmax_inflight_ingests = 2\n"
        server = Server(args.palisade, args.work, config)
        elapsed, refused, size = send_bulk(server, bodies, args.connections * 8)
        rows = server.query(
            "SELECT count(*) AS n, count(DISTINCT source_field(\"_source\", 'bench.seq')) AS distinct_seq FROM events"
        )[0]
        rss = server.stop()
        assert rows["distinct_seq"] == args.events, rows
        report("flood-http", args.events, elapsed, size, rss,
               f"{refused} refusals (429/503) retried; stored {rows['n']:,}, distinct acknowledged "
               f"{rows['distinct_seq']:,}, duplicates {rows['n'] - rows['distinct_seq']}")
        frames = syslog_frames(args.events, 4)
        server = Server(args.palisade, args.work + "-syslog", config)
        elapsed, sent, size = send_syslog(server, frames, 16)
        stored = server.stored()
        rss = server.stop()
        assert stored == args.events, (stored, args.events)
        report("flood-syslog-tcp", args.events, elapsed, size, rss,
               f"16 connections; sending took {sent:.1f} s (TCP backpressure); stored {stored:,} of {args.events:,}")


if __name__ == "__main__":
    main()
