//! The store end to end: append, query the unflushed and flushed parts, reopen after a
//! simulated crash, retention, and refusal of writing queries.

use palisade_event::{Event, Timestamp, Value};
use palisade_store::{Error, FsyncPolicy, QueryLimits, Store, StoreConfig};

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
    StoreConfig { fsync: FsyncPolicy::Always, flush_events: 1_000_000 }
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
    }
    // Reopen: the three unflushed events come back from the log, exactly once.
    let store = Store::open(dir.path(), config()).expect("reopen");
    assert_eq!(
        rows(&store, r#"SELECT count(*), count(DISTINCT "source.port") FROM events"#).await,
        ["8|8"]
    );
    let (next, _) = store.append(vec![event(9, "carol", "10.0.0.2")]).expect("append");
    assert_eq!(next, 9, "sequence numbers continue after recovery");
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
    assert_eq!(
        store
            .apply_retention(Some(std::time::Duration::from_secs(86_400)), None)
            .expect("retention"),
        1
    );
    assert_eq!(rows(&store, "SELECT count(*) FROM events").await, ["0"]);
}
