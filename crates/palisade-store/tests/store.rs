//! The store end to end: append, query the unflushed and flushed parts, reopen after a
//! simulated crash, retention, and refusal of writing queries.

use palisade_event::{Event, Timestamp, Value};
use palisade_store::{
    Error, FsyncPolicy, QueryLimits, RetentionLimits, RetentionPolicy, Store, StoreConfig,
};

fn event(n: i64, user: &str, ip: &str) -> Event {
    let mut event = Event::from_fields(vec![
        ("user.name".into(), Value::from(user)),
        ("source.ip".into(), Value::from(ip)),
        ("source.port".into(), Value::Int(1000 + n)),
        ("event.dataset".into(), Value::from("auth")),
        ("custom.field".into(), Value::from(format!("value-{n}"))),
    ]);
    event.set_timestamp(Timestamp::from_second(1_760_000_000 + n).ok());
    event
}

fn config() -> StoreConfig {
    StoreConfig { fsync: FsyncPolicy::Always, flush_events: 1_000_000, ..StoreConfig::default() }
}

async fn rows(store: &Store, sql: &str) -> Vec<String> {
    let output = store.query(sql, QueryLimits::default()).await.expect("query runs");
    let mut rows = Vec::new();
    for batch in &output.batches {
        let formatters: Vec<_> = batch
            .columns()
            .iter()
            .map(|column| {
                datafusion::arrow::util::display::ArrayFormatter::try_new(
                    column.as_ref(),
                    &Default::default(),
                )
                .expect("format")
            })
            .collect();
        for row in 0..batch.num_rows() {
            rows.push(
                formatters.iter().map(|f| f.value(row).to_string()).collect::<Vec<_>>().join("|"),
            );
        }
    }
    rows
}

#[tokio::test]
async fn appended_events_are_queryable_before_and_after_flush_and_after_reopen() {
    let dir = tempfile::tempdir().expect("tmp");
    {
        let store = Store::open(dir.path(), config()).expect("open");
        let (first, last) =
            store.append((0..5).map(|n| event(n, "alice", "10.0.0.1")).collect()).expect("append");
        assert_eq!((first, last), (1, 5));
        assert_eq!(rows(&store, r#"SELECT count(*) FROM events"#).await, ["5"]);
        store.flush().expect("flush");
        store.append((5..8).map(|n| event(n, "bob", "192.168.1.9")).collect()).expect("append");
        assert_eq!(
            rows(&store, r#"SELECT "user.name", count(*) AS n FROM events GROUP BY "user.name" ORDER BY "user.name""#).await,
            ["alice|5", "bob|3"]
        );
        // The rest of the event stays reachable in `_source`.
        assert_eq!(
            rows(
                &store,
                r#"SELECT count(*) FROM events WHERE _source LIKE '%"custom.field":"value-7"%'"#
            )
            .await,
            ["1"]
        );
        let stats = store.stats().expect("stats");
        assert_eq!((stats.events, stats.unflushed_events, stats.segments), (8, 3, 1));
        // Each event carries its sequence number as `_seq`, flushed (1..=5) or not (6..=8).
        assert_eq!(
            rows(
                &store,
                r#"SELECT _seq, "source.port" FROM events WHERE _seq IN (2, 7) ORDER BY _seq"#
            )
            .await,
            ["2|1001", "7|1006"]
        );
    }
    // Reopen: the three unflushed events come back from the log, exactly once.
    let store = Store::open(dir.path(), config()).expect("reopen");
    assert_eq!(
        rows(&store, r#"SELECT count(*), count(DISTINCT "source.port") FROM events"#).await,
        ["8|8"]
    );
    let (next, _) = store.append(vec![event(9, "carol", "10.0.0.2")]).expect("append");
    assert_eq!(next, 9, "sequence numbers continue after recovery");
    assert_eq!(
        rows(&store, r#"SELECT "source.port" FROM events WHERE _seq = 8"#).await,
        ["1007"],
        "recovered events keep their sequence numbers"
    );
    store.flush().expect("flush");
    drop(store);
    let store = Store::open(dir.path(), config()).expect("reopen");
    assert_eq!(rows(&store, "SELECT count(*) FROM events").await, ["9"]);
    assert_eq!(store.stats().expect("stats").unflushed_events, 0);
}

#[tokio::test]
async fn writes_ddl_and_bad_sql_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open(dir.path(), config()).expect("open");
    store.append(vec![event(1, "alice", "10.0.0.1")]).expect("append");
    for sql in [
        "DROP VIEW events",
        "CREATE TABLE x AS SELECT 1",
        "INSERT INTO _memtable SELECT * FROM events",
        "COPY (SELECT * FROM events) TO '/tmp/palisade-exfil.csv'",
        "CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '/etc/passwd'",
        "SET datafusion.execution.batch_size = 1",
        "SELECT * FROM '/etc/passwd'",
        "SELEC 1",
        "SELECT nosuchcolumn FROM events",
    ] {
        let error = store.query(sql, QueryLimits::default()).await.expect_err(sql);
        assert!(matches!(error, Error::InvalidQuery(_)), "{sql}: {error}");
    }
    assert!(!std::path::Path::new("/tmp/palisade-exfil.csv").exists());
    assert_eq!(rows(&store, "SELECT count(*) FROM events").await, ["1"]);
}

#[tokio::test]
async fn row_cap_and_retention() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open(dir.path(), config()).expect("open");
    store.append((0..50).map(|n| event(n, "u", "10.0.0.1")).collect()).expect("append");
    let output = store
        .query("SELECT * FROM events", QueryLimits { max_rows: 10, ..QueryLimits::default() })
        .await
        .expect("query");
    assert!(output.truncated);
    assert_eq!(output.batches.iter().map(|b| b.num_rows()).sum::<usize>(), 10);
    store.flush().expect("flush");
    // The events are from 2025; an age limit of one day removes their segment.
    let day =
        RetentionLimits { max_age: Some(std::time::Duration::from_secs(86_400)), max_bytes: None };
    assert_eq!(
        store
            .apply_retention(&RetentionPolicy { default: day, ..RetentionPolicy::default() })
            .expect("retention"),
        1
    );
    assert_eq!(rows(&store, "SELECT count(*) FROM events").await, ["0"]);
}

fn dataset_event(n: i64, dataset: &str) -> Event {
    let mut event = event(n, "u", "10.0.0.1");
    event.insert("event.dataset", Value::from(dataset));
    event
}

fn segment_files(dir: &std::path::Path) -> Vec<String> {
    let mut files = Vec::new();
    for source in std::fs::read_dir(dir.join("segments")).expect("segments dir") {
        let source = source.expect("entry").path();
        if source.is_dir() {
            for file in std::fs::read_dir(&source).expect("source dir") {
                let file = file.expect("entry").path();
                files.push(format!(
                    "{}/{}",
                    source.file_name().expect("name").to_string_lossy(),
                    file.file_name().expect("name").to_string_lossy()
                ));
            }
        }
    }
    files.sort();
    files
}

#[tokio::test]
async fn a_flush_writes_one_segment_per_source_and_retention_applies_per_source() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open(dir.path(), config()).expect("open");
    store.append((0..6).map(|n| dataset_event(n, "dns")).collect()).expect("append");
    store.append((6..10).map(|n| dataset_event(n, "Nginx Access")).collect()).expect("append");
    let mut no_source = Event::from_fields(vec![
        ("user.name".into(), Value::from("x")),
        ("source.port".into(), Value::Int(10)),
    ]);
    no_source.set_timestamp(Timestamp::from_second(1_760_000_010).ok());
    store.append(vec![no_source]).expect("append");
    store.flush().expect("flush");
    assert_eq!(
        segment_files(dir.path()),
        [
            "_none/seg-00000000000000000001-00000000000000000011.parquet",
            "dns/seg-00000000000000000001-00000000000000000011.parquet",
            "nginx_access/seg-00000000000000000001-00000000000000000011.parquet",
        ]
    );
    let stats = store.stats().expect("stats");
    assert_eq!(stats.sources["dns"].events, 6);
    assert_eq!(stats.sources["nginx_access"].events, 4);
    // A one-day limit on dns alone removes only its segment.
    let policy = RetentionPolicy {
        sources: [(
            "dns".to_owned(),
            RetentionLimits {
                max_age: Some(std::time::Duration::from_secs(86_400)),
                max_bytes: None,
            },
        )]
        .into(),
        ..RetentionPolicy::default()
    };
    assert_eq!(store.apply_retention(&policy).expect("retention"), 1);
    assert_eq!(rows(&store, "SELECT count(*) FROM events").await, ["5"]);
    assert!(!segment_files(dir.path()).iter().any(|file| file.starts_with("dns/")));
}

#[tokio::test]
async fn an_interrupted_flush_is_replayed_from_the_log_without_duplicates() {
    let dir = tempfile::tempdir().expect("tmp");
    {
        let store = Store::open(dir.path(), config()).expect("open");
        store.append((0..4).map(|n| dataset_event(n, "dns")).collect()).expect("append");
        store.append((4..7).map(|n| dataset_event(n, "web")).collect()).expect("append");
        store.flush().expect("flush");
        store.append((7..9).map(|n| dataset_event(n, "dns")).collect()).expect("append");
    }
    // Simulate a crash in the middle of the second flush: one source's file was renamed
    // into place but the FLUSHED marker was not advanced, so the log still holds 8..9.
    let partial =
        dir.path().join("segments/dns/seg-00000000000000000008-00000000000000000009.parquet");
    std::fs::copy(
        dir.path().join("segments/dns/seg-00000000000000000001-00000000000000000007.parquet"),
        &partial,
    )
    .expect("copy");
    let store = Store::open(dir.path(), config()).expect("reopen");
    assert!(!partial.exists(), "a segment beyond the flush marker is removed");
    assert_eq!(
        rows(&store, r#"SELECT count(*), count(DISTINCT "source.port") FROM events"#).await,
        ["9|9"]
    );
}

#[tokio::test]
async fn small_segments_are_compacted_and_an_interrupted_compaction_recovers() {
    let dir = tempfile::tempdir().expect("tmp");
    let compacting =
        StoreConfig { compact_min_segments: 3, compact_target_events: 1_000, ..config() };
    {
        let store = Store::open(dir.path(), compacting.clone()).expect("open");
        for round in 0..3 {
            store
                .append((round * 5..round * 5 + 5).map(|n| dataset_event(n, "dns")).collect())
                .expect("append");
            store.flush().expect("flush");
        }
        // Compaction runs after the flush that found enough small segments; one more
        // flush request waits for it.
        store.flush().expect("flush");
        assert_eq!(store.stats().expect("stats").sources["dns"].segments, 1);
        assert_eq!(
            rows(&store, r#"SELECT count(*), count(DISTINCT "source.port"), min("@timestamp") < max("@timestamp") FROM events"#).await,
            ["15|15|true"]
        );
    }
    let files = segment_files(dir.path());
    assert_eq!(files, ["dns/seg-00000000000000000001-00000000000000000015.parquet"]);
    // Put back an input beside the merged file, as a crash before deleting the inputs would
    // leave it: recovery keeps the merged file only.
    let merged = dir.path().join("segments").join(&files[0]);
    let leftover =
        dir.path().join("segments/dns/seg-00000000000000000006-00000000000000000010.parquet");
    std::fs::copy(&merged, &leftover).expect("copy");
    let store = Store::open(dir.path(), compacting).expect("reopen");
    assert!(!leftover.exists());
    assert_eq!(rows(&store, "SELECT count(*) FROM events").await, ["15"]);
}

#[tokio::test]
async fn a_second_process_cannot_open_the_same_directory() {
    let dir = tempfile::tempdir().expect("tmp");
    let _store = Store::open(dir.path(), config()).expect("open");
    let error = Store::open(dir.path(), config()).expect_err("locked");
    assert!(matches!(error, Error::Locked(_)), "{error}");
}

#[tokio::test]
async fn source_field_and_cidr_match_reach_beyond_the_typed_columns() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open(dir.path(), config()).expect("open");
    let mut v6 = event(3, "carol", "2001:db8::7");
    v6.insert("tags", Value::List(vec![Value::from("a"), Value::from("b")]));
    store
        .append(vec![event(1, "alice", "10.1.2.3"), event(2, "bob", "192.168.0.9"), v6])
        .expect("append");
    assert_eq!(
        rows(&store, r#"SELECT "user.name", source_field("_source", 'custom.field'), source_field("_source", 'tags') FROM events ORDER BY 1"#).await,
        ["alice|value-1|", "bob|value-2|", "carol|value-3|a,b"]
    );
    assert_eq!(
        rows(&store, r#"SELECT "user.name" FROM events WHERE cidr_match("source.ip", '10.0.0.0/8') OR cidr_match("source.ip", '2001:db8::/32') ORDER BY 1"#).await,
        ["alice", "carol"]
    );
    assert_eq!(
        rows(&store, r#"SELECT count(*) FROM events WHERE cidr_match("source.ip", 'not a net')"#)
            .await,
        ["0"]
    );
}

#[tokio::test]
async fn time_ranges_and_bloom_filters_prune_segments() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open(dir.path(), config()).expect("open");
    // Three flushes, far apart in time, each with its own addresses.
    for (day, octet) in [(0, 1), (10, 2), (20, 3)] {
        let events = (0..200)
            .map(|n| {
                let mut event = event(n, "u", &format!("10.{octet}.0.{}", n % 200));
                event.set_timestamp(Timestamp::from_second(1_760_000_000 + day * 86_400 + n).ok());
                event
            })
            .collect();
        store.append(events).expect("append");
        store.flush().expect("flush");
    }
    let plan = |sql: &str| {
        let store = &store;
        let sql = sql.to_owned();
        async move { rows(store, &format!("EXPLAIN ANALYZE {sql}")).await.join("\n") }
    };
    let metric = |plan: &str, name: &str| -> u64 {
        // e.g. "row_groups_pruned_statistics=2 total → 1 matched" or "files_ranges_pruned_statistics=3 total → 1 matched"
        let at = plan.find(name).unwrap_or_else(|| panic!("no {name} in {plan}"));
        let rest = &plan[at + name.len() + 1..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().unwrap_or_else(|_| panic!("{name}: {rest}"))
    };
    // Only the middle segment's time range can match.
    let by_time = plan(
        r#"SELECT count(*) FROM events WHERE "@timestamp" >= '2025-10-19T00:00:00Z' AND "@timestamp" < '2025-10-20T00:00:00Z'"#,
    )
    .await;
    assert_eq!(
        rows(&store, r#"SELECT count(*) FROM events WHERE "@timestamp" >= '2025-10-19T00:00:00Z' AND "@timestamp" < '2025-10-20T00:00:00Z'"#).await,
        ["200"]
    );
    let pruned_by_time = metric(&by_time, "files_ranges_pruned_statistics")
        + metric(&by_time, "row_groups_pruned_statistics");
    assert!(pruned_by_time >= 2, "time pruning skipped nothing:\n{by_time}");
    // An address in no segment's range of values but inside their min/max is skipped by the
    // bloom filters.
    let by_bloom = plan(r#"SELECT count(*) FROM events WHERE "source.ip" = '10.2.0.77x'"#).await;
    assert!(
        metric(&by_bloom, "row_groups_pruned_bloom_filter") >= 1,
        "bloom filters skipped nothing:\n{by_bloom}"
    );
}

#[tokio::test]
async fn pipe_queries_run_through_the_same_read_only_path() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open(dir.path(), config()).expect("open");
    store
        .append(vec![
            event(1, "alice", "10.1.2.3"),
            event(2, "alice", "10.1.2.4"),
            event(3, "bob", "192.168.0.9"),
        ])
        .expect("append");
    assert_eq!(
        rows(
            &store,
            "events | where source.ip cidr \"10.0.0.0/8\" | stats count() as n by user.name"
        )
        .await,
        ["alice|2"]
    );
    // A field outside the typed columns is read from `_source`.
    assert_eq!(
        rows(&store, "events | where custom.field == \"value-3\" | fields user.name").await,
        ["bob"]
    );
    let error = store
        .query("events | where user.name == | head 1", QueryLimits::default())
        .await
        .expect_err("syntax error");
    assert!(matches!(error, Error::InvalidQuery(_)), "{error}");
    assert!(error.to_string().contains("1:"), "the position is reported: {error}");
}

#[tokio::test]
async fn the_memory_bound_flushes_and_holds_back_appends() {
    let dir = tempfile::tempdir().expect("tmp");
    let bound = 1 << 20;
    let config = StoreConfig {
        fsync: FsyncPolicy::Never,
        flush_events: 1_000_000,
        max_unflushed_events: 4_000_000,
        flush_bytes: bound / 4,
        max_unflushed_bytes: bound,
        ..StoreConfig::default()
    };
    let store = Store::open(dir.path(), config).expect("open");
    // What one request of 500 events holds in memory once numbered (its columns).
    let request: Vec<Event> = (0..500).map(|n| event(n, "alice", "10.0.0.1")).collect();
    let per_request =
        palisade_store::schema::with_seq(&palisade_store::schema::encode(&request, 0).batch, 1)
            .get_array_memory_size();
    let total = 20 * bound / (per_request / 500);
    for chunk in (0..total as i64).collect::<Vec<_>>().chunks(500) {
        store
            .append(chunk.iter().map(|n| event(*n, "alice", "10.0.0.1")).collect())
            .expect("append");
        // The writer waits for the flusher before taking more, so what is unflushed stays
        // within the bound plus one request.
        let unflushed = store.stats().expect("stats").unflushed_bytes as usize;
        assert!(unflushed <= bound + per_request, "{unflushed} bytes unflushed");
    }
    // Far fewer events than `flush_events` were appended: the byte bound made the flushes.
    assert!(!segment_files(dir.path()).is_empty());
    assert_eq!(rows(&store, "SELECT count(*) FROM events").await, [total.to_string()]);
}

#[tokio::test]
async fn events_replayed_from_the_log_count_their_real_memory() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = StoreConfig { fsync: FsyncPolicy::Always, ..config() };
    let before = {
        let store = Store::open(dir.path(), config.clone()).expect("open");
        for chunk in (0..4000).collect::<Vec<i64>>().chunks(1000) {
            store
                .append(chunk.iter().map(|n| event(*n, "alice", "10.0.0.1")).collect())
                .expect("append");
        }
        store.stats().expect("stats").unflushed_bytes
    };
    // Reopened, the events come back from the log, not yet flushed.
    let store = Store::open(dir.path(), config).expect("reopen");
    let stats = store.stats().expect("stats");
    assert_eq!(stats.unflushed_events, 4000);
    // The replayed columns share one buffer per record: counted once, they hold about what
    // the appended ones did (less: no spare capacity), not a multiple of it.
    assert!(
        stats.unflushed_bytes > before / 4 && stats.unflushed_bytes <= before,
        "{} bytes replayed against {before} appended",
        stats.unflushed_bytes
    );
    assert_eq!(rows(&store, "SELECT count(*) FROM events").await, ["4000"]);
}

/// Copies a directory tree, as a crash would leave it on disk (the store syncs each append).
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("list") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn wal_names(root: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("wal"))
        .expect("list")
        .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Log files the flusher retires are recycled for the next ones, so the file being written
/// can end in records of its earlier use. A crash image taken mid-run (a copy of the
/// directory while the store runs) replays every event once and none of the old ones; a
/// closed store leaves no recycled file behind, and reopens with the same events.
#[tokio::test]
async fn recycled_log_files_replay_no_old_events() {
    let dir = tempfile::tempdir().expect("tmp");
    let image = tempfile::tempdir().expect("tmp");
    {
        let store = Store::open(dir.path(), config()).expect("open");
        for round in 0..4 {
            store
                .append(
                    (round * 20..round * 20 + 20).map(|n| event(n, "alice", "10.0.0.1")).collect(),
                )
                .expect("append");
            store.flush().expect("flush");
        }
        // Into a file that held events 41..=60 before.
        store.append((80..85).map(|n| event(n, "bob", "10.0.0.2")).collect()).expect("append");
        let names = wal_names(dir.path());
        assert!(names.iter().any(|name| name.ends_with(".spare")), "{names:?}");
        assert!(names.contains(&"00000000000000000081.wal".to_owned()), "{names:?}");
        assert!(store.stats().expect("stats").wal_bytes > 0);
        copy_tree(dir.path(), image.path());
    }
    let names = wal_names(dir.path());
    assert!(!names.iter().any(|name| name.ends_with(".spare")), "{names:?}");
    for root in [dir.path(), image.path()] {
        let store = Store::open(root, config()).expect("reopen");
        assert_eq!(
            rows(&store, r#"SELECT count(*), count(DISTINCT "source.port"), min("source.port"), max("source.port") FROM events"#).await,
            ["85|85|1000|1084"]
        );
        assert_eq!(store.stats().expect("stats").unflushed_events, 5);
    }
}
