//! Reading JSON documents into events: the generic (fast) path that `_bulk` sources and
//! JSON lines take. The documents are shaped as shippers send them: an ECS authentication
//! record like the end-to-end bench's, a flat Winlogbeat-style record and a nested one with
//! arrays and escapes.
//!
//! Run with `cargo bench -p palisade-parse --bench json`; figures go in docs/benchmarks.md.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use palisade_parse::source::json_object_event;

fn ecs_auth(n: usize) -> String {
    let users = ["alice", "bob", "carol", "dave", "erin", "mallory"];
    let user = users[n % users.len()];
    let outcome = if n.is_multiple_of(3) { "failure" } else { "success" };
    format!(
        concat!(
            r#"{{"@timestamp":"2025-12-01T00:{:02}:{:02}Z","event":{{"dataset":"bench.auth","kind":"event","#,
            r#""category":["authentication"],"action":"logon","outcome":"{}"}},"user":{{"name":"{}","domain":"EXAMPLE"}},"#,
            r#""source":{{"ip":"203.0.113.{}","port":{}}},"host":{{"name":"ws-{:03}.example.com"}},"#,
            r#""process":{{"name":"winlogon.exe","pid":{}}},"bench":{{"seq":{}}},"message":"An account logon: {}"}}"#
        ),
        (n / 60) % 60,
        n % 60,
        outcome,
        user,
        1 + n % 254,
        1024 + (n * 7919) % 60000,
        n % 500,
        100 + (n * 31) % 60000,
        n,
        user,
    )
}

fn flat_windows(n: usize) -> String {
    format!(
        concat!(
            r#"{{"EventTime":"2025-12-01 10:{:02}:{:02}","Hostname":"DC01.corp.example","EventID":4625,"#,
            r#""Channel":"Security","TargetUserName":"user{}","TargetDomainName":"CORP","LogonType":3,"#,
            r#""IpAddress":"10.1.{}.{}","IpPort":"{}","Status":"0xc000006d","SubStatus":"0xc000006a","#,
            r#""ProcessName":"C:\\Windows\\System32\\svchost.exe","Message":"An account failed to log on.\r\nReason: bad password"}}"#
        ),
        (n / 60) % 60,
        n % 60,
        n % 97,
        n % 256,
        (n * 13) % 256,
        49152 + n % 16000,
    )
}

fn nested(n: usize) -> String {
    format!(
        concat!(
            r#"{{"timestamp":"2025-12-01T10:00:{:02}.123456Z","service":{{"name":"api","version":"1.4.{}"}},"#,
            r#""http":{{"request":{{"method":"POST","headers":{{"user-agent":"curl/8.5.0","x-forwarded-for":["198.51.100.{}","10.0.0.1"]}}}},"#,
            r#""response":{{"status_code":{},"bytes":{}}}}},"tags":["prod","eu-west-1","canary"],"ratio":0.{},"ok":true,"#,
            r#""note":"quoted \"word\" and caf\u00e9","trace":null}}"#
        ),
        n % 60,
        n % 10,
        n % 256,
        [200, 401, 404, 500][n % 4],
        n * 17,
        n % 1000,
    )
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("json_object_event");
    for (name, make) in [
        ("ecs_auth", ecs_auth as fn(usize) -> String),
        ("flat_windows", flat_windows),
        ("nested", nested),
    ] {
        let documents: Vec<String> = (0..1000).map(make).collect();
        let bytes: usize = documents.iter().map(String::len).sum();
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                for document in &documents {
                    let event = json_object_event(document.as_bytes()).expect("valid");
                    std::hint::black_box(event);
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
