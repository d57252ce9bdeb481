//! One test per command (and per operator family) with the exact SQL expected.

use palisade_pipe::looks_like_pipe;

use crate::sql;

#[track_caller]
fn check(query: &str, expected: &str) {
    let actual = sql(query);
    assert_eq!(actual, expected, "\n  query: {query}");
    crate::parse_sql(&actual).unwrap_or_else(|error| panic!("{actual}\n  {error}"));
}

/// The `WHERE` part of `SELECT * FROM "events" WHERE ...`.
#[track_caller]
fn check_where(condition: &str, expected: &str) {
    check(
        &format!("events | where {condition}"),
        &format!(r#"SELECT * FROM "events" WHERE {expected}"#),
    );
}

#[test]
fn the_source_alone_selects_everything() {
    check("events", r#"SELECT * FROM "events""#);
    check("  EVENTS  ", r#"SELECT * FROM "events""#);
}

#[test]
fn the_source_is_optional_and_a_leading_pipe_is_allowed() {
    let expected = r#"SELECT * FROM "events" WHERE "user.name" = 'root'"#;
    check(r#"events | where user.name == "root""#, expected);
    check(r#"where user.name == "root""#, expected);
    check(r#"| where user.name == "root""#, expected);
    check("events\n// a comment\n| where user.name == 'root' // trailing comment", expected);
}

#[test]
fn keywords_ignore_case_but_field_names_do_not() {
    check(
        r#"EVENTS | WHERE User.Name == "x" AND NOT source.ip IN ("a") | Head 5"#,
        r#"SELECT * FROM "events" WHERE source_field("_source", 'User.Name') = 'x' AND NOT ("source.ip" IN ('a')) LIMIT 5"#,
    );
}

#[test]
fn where_comparisons() {
    check_where("source.port == 22", r#""source.port" = 22"#);
    check_where("source.port = 22", r#""source.port" = 22"#);
    check_where("source.port != 22", r#""source.port" <> 22"#);
    check_where("source.port <> 22", r#""source.port" <> 22"#);
    check_where("source.port < 22", r#""source.port" < 22"#);
    check_where("source.port <= 22", r#""source.port" <= 22"#);
    check_where("source.port > 22", r#""source.port" > 22"#);
    check_where("source.port >= 22", r#""source.port" >= 22"#);
    check_where("22 < source.port", r#"22 < "source.port""#);
    check_where("source.port == destination.port", r#""source.port" = "destination.port""#);
}

#[test]
fn filter_is_an_alias_of_where() {
    check(
        "events | filter source.port == 22",
        r#"SELECT * FROM "events" WHERE "source.port" = 22"#,
    );
}

#[test]
fn where_boolean_logic_keeps_precedence() {
    check_where(
        "source.port == 1 or source.port == 2 and not user.name == 'x'",
        r#""source.port" = 1 OR "source.port" = 2 AND NOT ("user.name" = 'x')"#,
    );
    check_where(
        "(source.port == 1 or source.port == 2) and user.name == 'x'",
        r#"("source.port" = 1 OR "source.port" = 2) AND "user.name" = 'x'"#,
    );
    check_where("not not exists(user.name)", r#"NOT (NOT ("user.name" IS NOT NULL))"#);
}

#[test]
fn consecutive_filters_merge() {
    check(
        "events | where source.port == 1 or source.port == 2 | where user.name == 'x'",
        r#"SELECT * FROM "events" WHERE ("source.port" = 1 OR "source.port" = 2) AND "user.name" = 'x'"#,
    );
}

#[test]
fn where_literals() {
    check_where("a == 'single'", r#"source_field("_source", 'a') = 'single'"#);
    check_where(r#"message == "tab\tquote\"""#, "\"message\" = 'tab\tquote\"'");
    check_where("message == @'C:\\x'", r#""message" = 'C:\x'"#);
    check_where("source.port == -1", r#""source.port" = -1"#);
    check_where("source.port > 1.5", r#""source.port" > 1.5"#);
    check_where("source.port > -1.5", r#""source.port" > -1.5"#);
    check_where("source.port - -1 > 0", r#""source.port" - -1 > 0"#);
    check_where("flag == true", r#"TRY_CAST(source_field("_source", 'flag') AS BOOLEAN) = true"#);
    check_where("message == false", r#""message" = false"#);
    check_where("user.name == null", r#""user.name" IS NULL"#);
    check_where("null != user.name", r#""user.name" IS NOT NULL"#);
}

#[test]
fn durations_and_ago() {
    check_where("@timestamp >= ago(1h)", r#""@timestamp" >= now() - INTERVAL '3600 seconds'"#);
    check_where("@timestamp > now() - 7d", r#""@timestamp" > now() - INTERVAL '604800 seconds'"#);
    check_where(
        "@timestamp > ago(30s) and @timestamp < ago(5m)",
        r#""@timestamp" > now() - INTERVAL '30 seconds' AND "@timestamp" < now() - INTERVAL '300 seconds'"#,
    );
    check_where("@timestamp > ago(2w)", r#""@timestamp" > now() - INTERVAL '1209600 seconds'"#);
}

#[test]
fn timestamps_compare_with_strings_as_written() {
    check_where(
        r#"@timestamp >= "2026-11-01T00:00:00Z""#,
        r#""@timestamp" >= '2026-11-01T00:00:00Z'"#,
    );
}

#[test]
fn in_and_not_in() {
    check_where(
        r#"process.name in ("cmd.exe", 'powershell.exe')"#,
        r#""process.name" IN ('cmd.exe', 'powershell.exe')"#,
    );
    check_where("destination.port not in (80, 443)", r#""destination.port" NOT IN (80, 443)"#);
    check_where("destination.port in (-1, 2.5)", r#""destination.port" IN (-1, 2.5)"#);
}

#[test]
fn text_operators() {
    check_where(r#"url.original like "%/admin%""#, r#""url.original" LIKE '%/admin%'"#);
    check_where(r#"url.original not like "%.png""#, r#""url.original" NOT LIKE '%.png'"#);
    check_where(
        r#"process.name matches "^[a-z]{8}\\.exe$""#,
        r#""process.name" ~ '^[a-z]{8}\.exe$'"#,
    );
    check_where(r#"process.name not matches "svc""#, r#""process.name" !~ 'svc'"#);
    check_where(
        r#"process.command_line contains "Invoke-""#,
        r#"strpos(lower("process.command_line"), lower('Invoke-')) > 0"#,
    );
    check_where(
        r#"process.command_line not contains "x""#,
        r#"strpos(lower("process.command_line"), lower('x')) = 0"#,
    );
    check_where(
        r#"file.path startswith "C:\\Temp""#,
        r#"starts_with(lower("file.path"), lower('C:\Temp'))"#,
    );
    check_where(
        r#"file.path not endswith ".tmp""#,
        r#"NOT ends_with(lower("file.path"), lower('.tmp'))"#,
    );
}

#[test]
fn cidr_tests_use_the_udf() {
    check_where(r#"source.ip cidr "10.0.0.0/8""#, r#"cidr_match("source.ip", '10.0.0.0/8')"#);
    check_where(
        r#"source.ip cidr ("10.0.0.0/8", "fd00::/8")"#,
        r#"cidr_match("source.ip", '10.0.0.0/8') OR cidr_match("source.ip", 'fd00::/8')"#,
    );
    check_where(
        r#"source.ip not cidr ("10.0.0.0/8", "fd00::/8") and source.port == 1"#,
        r#"NOT (cidr_match("source.ip", '10.0.0.0/8') OR cidr_match("source.ip", 'fd00::/8')) AND "source.port" = 1"#,
    );
    check_where(
        r#"source.ip cidr ("10.0.0.0/8", "fd00::/8") and source.port == 1"#,
        r#"(cidr_match("source.ip", '10.0.0.0/8') OR cidr_match("source.ip", 'fd00::/8')) AND "source.port" = 1"#,
    );
    check_where(
        r#"client.ip not cidr "192.168.0.0/16""#,
        r#"NOT cidr_match(source_field("_source", 'client.ip'), '192.168.0.0/16')"#,
    );
}

#[test]
fn exists_and_isnull() {
    check_where("exists(user.name)", r#""user.name" IS NOT NULL"#);
    check_where("isnull(winlog.x)", r#"source_field("_source", 'winlog.x') IS NULL"#);
}

#[test]
fn fields_outside_the_columns_read_source_with_casts_where_numeric() {
    check_where(
        "winlog.event_id == 4625",
        r#"TRY_CAST(source_field("_source", 'winlog.event_id') AS BIGINT) = 4625"#,
    );
    check_where("score > 0.5", r#"TRY_CAST(source_field("_source", 'score') AS DOUBLE) > 0.5"#);
    check_where(
        "winlog.channel == 'Security'",
        r#"source_field("_source", 'winlog.channel') = 'Security'"#,
    );
    check_where(
        "winlog.event_id in (4624, 4625)",
        r#"TRY_CAST(source_field("_source", 'winlog.event_id') AS BIGINT) IN (4624, 4625)"#,
    );
    check_where(
        "winlog.event_id in (4624, 'x')",
        r#"source_field("_source", 'winlog.event_id') IN (4624, 'x')"#,
    );
    check_where(
        "bytes * 8 > 1000",
        r#"TRY_CAST(source_field("_source", 'bytes') AS DOUBLE) * 8 > 1000"#,
    );
}

#[test]
fn search_looks_in_the_original_and_the_message() {
    check(
        r#"events | search "Mimikatz""#,
        r#"SELECT * FROM "events" WHERE strpos(lower("event.original"), lower('Mimikatz')) > 0 OR strpos(lower("message"), lower('Mimikatz')) > 0"#,
    );
    // Without those columns the text is read from `_source`.
    let sql = palisade_pipe::compile(r#"search "x""#, &|name| name == "_source").unwrap();
    assert_eq!(
        sql,
        r#"SELECT * FROM "events" WHERE strpos(lower(source_field("_source", 'event.original')), lower('x')) > 0 OR strpos(lower(source_field("_source", 'message')), lower('x')) > 0"#
    );
}

#[test]
fn fields_is_the_final_projection() {
    check(
        "events | fields @timestamp, user.name, winlog.event_id",
        r#"SELECT "@timestamp", "user.name", source_field("_source", 'winlog.event_id') AS "winlog.event_id" FROM "events""#,
    );
    check(
        "events | project host.name | where host.name == 'a'",
        r#"SELECT "host.name" FROM "events" WHERE "host.name" = 'a'"#,
    );
}

#[test]
fn fields_keeps_the_order_of_a_dropped_sort_field() {
    check(
        "events | sort @timestamp desc | fields user.name | head 3",
        r#"SELECT "user.name" FROM "events" ORDER BY "@timestamp" DESC NULLS LAST LIMIT 3"#,
    );
    check(
        "events | sort @timestamp desc | fields user.name | where user.name == 'a'",
        r#"SELECT "user.name" FROM "events" WHERE "user.name" = 'a' ORDER BY "@timestamp" DESC NULLS LAST"#,
    );
}

#[test]
fn stats_count_and_default_names() {
    check("events | stats count()", r#"SELECT count(*) AS "count" FROM "events""#);
    check(
        "events | stats count(*), count(user.name), dc(user.name), distinct_count(host.name), dcount(source.ip)",
        r#"SELECT count(*) AS "count", count("user.name") AS "count_user.name", count(DISTINCT "user.name") AS "dc_user.name", count(DISTINCT "host.name") AS "dc_host.name", count(DISTINCT "source.ip") AS "dc_source.ip" FROM "events""#,
    );
}

#[test]
fn stats_numeric_and_list_aggregations() {
    check(
        "events | stats sum(bytes), avg(source.port), min(source.port), max(@timestamp), values(host.name)",
        r#"SELECT sum(TRY_CAST(source_field("_source", 'bytes') AS DOUBLE)) AS "sum_bytes", avg("source.port") AS "avg_source.port", min("source.port") AS "min_source.port", max("@timestamp") AS "max_@timestamp", array_agg(DISTINCT "host.name") AS "values_host.name" FROM "events""#,
    );
}

#[test]
fn stats_earliest_and_latest() {
    check(
        "events | stats earliest(@timestamp), latest(@timestamp), earliest(user.name), latest(user.name) as last_user",
        r#"SELECT min("@timestamp") AS "earliest_@timestamp", max("@timestamp") AS "latest_@timestamp", first_value("user.name" ORDER BY "@timestamp" ASC NULLS LAST) FILTER (WHERE "user.name" IS NOT NULL) AS "earliest_user.name", first_value("user.name" ORDER BY "@timestamp" DESC NULLS LAST) FILTER (WHERE "user.name" IS NOT NULL) AS "last_user" FROM "events""#,
    );
}

#[test]
fn stats_by_groups_names_and_orders_by_the_keys() {
    check(
        "events | stats count() as n, c = dc(user.name) by host.name, winlog.channel",
        r#"WITH "_s1" AS (SELECT "host.name", source_field("_source", 'winlog.channel') AS "winlog.channel", count(*) AS "n", count(DISTINCT "user.name") AS "c" FROM "events" GROUP BY "host.name", source_field("_source", 'winlog.channel')) SELECT * FROM "_s1" ORDER BY "host.name" ASC NULLS LAST, "winlog.channel" ASC NULLS LAST"#,
    );
}

#[test]
fn stats_by_alone_lists_distinct_combinations() {
    check(
        "events | summarize by user.name",
        r#"WITH "_s1" AS (SELECT "user.name" FROM "events" GROUP BY "user.name") SELECT * FROM "_s1" ORDER BY "user.name" ASC NULLS LAST"#,
    );
}

#[test]
fn stats_by_bins_and_expressions() {
    check(
        "events | stats count() by bin(@timestamp, 15m)",
        r#"WITH "_s1" AS (SELECT date_bin(INTERVAL '900 seconds', "@timestamp", TIMESTAMP '1970-01-01T00:00:00Z') AS "@timestamp", count(*) AS "count" FROM "events" GROUP BY date_bin(INTERVAL '900 seconds', "@timestamp", TIMESTAMP '1970-01-01T00:00:00Z')) SELECT * FROM "_s1" ORDER BY "@timestamp" ASC NULLS LAST"#,
    );
    check(
        "events | stats count() by bin(bytes, 100) as size, lower(user.name) as user",
        r#"WITH "_s1" AS (SELECT floor(TRY_CAST(source_field("_source", 'bytes') AS DOUBLE) / 100) * 100 AS "size", lower("user.name") AS "user", count(*) AS "count" FROM "events" GROUP BY floor(TRY_CAST(source_field("_source", 'bytes') AS DOUBLE) / 100) * 100, lower("user.name")) SELECT * FROM "_s1" ORDER BY "size" ASC NULLS LAST, "user" ASC NULLS LAST"#,
    );
}

#[test]
fn stats_output_names_are_columns_afterwards() {
    check(
        "events | stats count() by source.ip | where count > 5 | sort count desc",
        r#"WITH "_s1" AS (SELECT "source.ip", count(*) AS "count" FROM "events" GROUP BY "source.ip") SELECT * FROM "_s1" WHERE "count" > 5 ORDER BY "count" DESC NULLS LAST"#,
    );
    // The name `bytes` is a stats output here, not a `_source` field: no source_field, no cast.
    check(
        "events | stats sum(bytes) as bytes by host.name | where bytes > 10",
        r#"WITH "_s1" AS (SELECT "host.name", sum(TRY_CAST(source_field("_source", 'bytes') AS DOUBLE)) AS "bytes" FROM "events" GROUP BY "host.name") SELECT * FROM "_s1" WHERE "bytes" > 10 ORDER BY "host.name" ASC NULLS LAST"#,
    );
}

#[test]
fn stats_after_a_filter_shares_the_select_and_after_eval_does_not() {
    check(
        "events | where user.name == 'a' | stats count()",
        r#"SELECT count(*) AS "count" FROM "events" WHERE "user.name" = 'a'"#,
    );
    check(
        "events | eval u = lower(user.name) | stats count() by u",
        r#"WITH "_s1" AS (SELECT *, lower("user.name") AS "u" FROM "events"), "_s2" AS (SELECT "u", count(*) AS "count" FROM "_s1" GROUP BY "u") SELECT * FROM "_s2" ORDER BY "u" ASC NULLS LAST"#,
    );
}

#[test]
fn sort_directions_and_aliases() {
    let expected = r#"SELECT * FROM "events" ORDER BY "host.name" ASC NULLS LAST, "@timestamp" DESC NULLS LAST"#;
    check("events | sort host.name, @timestamp desc", expected);
    check("events | sort host.name asc, @timestamp desc", expected);
    check("events | sort by host.name, @timestamp DESC", expected);
    check("events | order by host.name, @timestamp desc", expected);
    check(
        "events | sort winlog.event_id",
        r#"SELECT * FROM "events" ORDER BY source_field("_source", 'winlog.event_id') ASC NULLS LAST"#,
    );
}

#[test]
fn the_last_sort_wins_and_later_filters_keep_it() {
    check(
        "events | sort a | sort b desc | where c == 1",
        r#"SELECT * FROM "events" WHERE TRY_CAST(source_field("_source", 'c') AS BIGINT) = 1 ORDER BY source_field("_source", 'b') DESC NULLS LAST"#,
    );
}

#[test]
fn head_limit_and_take() {
    check("events | head", r#"SELECT * FROM "events" LIMIT 10"#);
    check("events | head 3", r#"SELECT * FROM "events" LIMIT 3"#);
    check("events | limit 3", r#"SELECT * FROM "events" LIMIT 3"#);
    check("events | take 3", r#"SELECT * FROM "events" LIMIT 3"#);
    check("events | head 5 | head 3", r#"SELECT * FROM "events" LIMIT 3"#);
    check("events | head 3 | head 5", r#"SELECT * FROM "events" LIMIT 3"#);
}

#[test]
fn head_takes_the_first_rows_in_the_current_order() {
    check(
        "events | sort @timestamp desc | head 5",
        r#"SELECT * FROM "events" ORDER BY "@timestamp" DESC NULLS LAST LIMIT 5"#,
    );
    // A filter after head filters the five rows, not the table.
    check(
        "events | head 5 | where user.name == 'a'",
        r#"WITH "_s1" AS (SELECT * FROM "events" LIMIT 5) SELECT * FROM "_s1" WHERE "user.name" = 'a'"#,
    );
    // Sorting after head sorts the five rows.
    check(
        "events | head 5 | sort user.name",
        r#"WITH "_s1" AS (SELECT * FROM "events" LIMIT 5) SELECT * FROM "_s1" ORDER BY "user.name" ASC NULLS LAST"#,
    );
}

#[test]
fn top_counts_the_most_frequent_values() {
    check(
        "events | top user.name",
        r#"WITH "_s1" AS (SELECT "user.name", count(*) AS "count" FROM "events" WHERE "user.name" IS NOT NULL GROUP BY "user.name") SELECT * FROM "_s1" ORDER BY "count" DESC NULLS LAST, "user.name" ASC NULLS LAST LIMIT 10"#,
    );
    check(
        "events | top 3 user.name, host.name",
        r#"WITH "_s1" AS (SELECT "user.name", "host.name", count(*) AS "count" FROM "events" WHERE "user.name" IS NOT NULL AND "host.name" IS NOT NULL GROUP BY "user.name", "host.name") SELECT * FROM "_s1" ORDER BY "count" DESC NULLS LAST, "user.name" ASC NULLS LAST, "host.name" ASC NULLS LAST LIMIT 3"#,
    );
}

#[test]
fn top_by_ranks_within_each_group() {
    check(
        "events | top 2 dns.question.name by host.name",
        r#"WITH "_s1" AS (SELECT "host.name", "dns.question.name", count(*) AS "count" FROM "events" WHERE "dns.question.name" IS NOT NULL GROUP BY "host.name", "dns.question.name"), "_s2" AS (SELECT *, row_number() OVER (PARTITION BY "host.name" ORDER BY "count" DESC NULLS LAST, "dns.question.name" ASC NULLS LAST) AS "_pipe_rank" FROM "_s1") SELECT "host.name", "dns.question.name", "count" FROM "_s2" WHERE "_pipe_rank" <= 2 ORDER BY "host.name" ASC NULLS LAST, "count" DESC NULLS LAST, "dns.question.name" ASC NULLS LAST"#,
    );
}

#[test]
fn rare_counts_the_least_frequent_values() {
    check(
        "events | rare 5 process.parent.executable, process.name",
        r#"WITH "_s1" AS (SELECT "process.parent.executable", "process.name", count(*) AS "count" FROM "events" WHERE "process.parent.executable" IS NOT NULL AND "process.name" IS NOT NULL GROUP BY "process.parent.executable", "process.name") SELECT * FROM "_s1" ORDER BY "count" ASC NULLS LAST, "process.parent.executable" ASC NULLS LAST, "process.name" ASC NULLS LAST LIMIT 5"#,
    );
}

#[test]
fn top_output_can_be_filtered_and_limited_again() {
    check(
        "events | top 5 user.name | where count > 1 | head 2",
        r#"WITH "_s1" AS (SELECT "user.name", count(*) AS "count" FROM "events" WHERE "user.name" IS NOT NULL GROUP BY "user.name"), "_s2" AS (SELECT * FROM "_s1" ORDER BY "count" DESC NULLS LAST, "user.name" ASC NULLS LAST LIMIT 5) SELECT * FROM "_s2" WHERE "count" > 1 ORDER BY "count" DESC NULLS LAST, "user.name" ASC NULLS LAST LIMIT 2"#,
    );
}

#[test]
fn dedup_keeps_the_first_row_per_key() {
    check(
        "events | dedup user.name, host.name",
        r#"SELECT DISTINCT ON ("user.name", "host.name") * FROM "events" ORDER BY "user.name" ASC NULLS LAST, "host.name" ASC NULLS LAST"#,
    );
}

#[test]
fn dedup_after_sort_keeps_the_first_row_in_that_order_and_keeps_the_order() {
    check(
        "events | sort @timestamp desc | dedup user.name",
        r#"WITH "_s1" AS (SELECT DISTINCT ON ("user.name") * FROM "events" ORDER BY "user.name" ASC NULLS LAST, "@timestamp" DESC NULLS LAST) SELECT * FROM "_s1" ORDER BY "@timestamp" DESC NULLS LAST"#,
    );
    check(
        "events | sort user.name | dedup user.name | head 1",
        r#"WITH "_s1" AS (SELECT DISTINCT ON ("user.name") * FROM "events" ORDER BY "user.name" ASC NULLS LAST) SELECT * FROM "_s1" ORDER BY "user.name" ASC NULLS LAST LIMIT 1"#,
    );
}

#[test]
fn eval_adds_columns() {
    check(
        "events | eval kb = bytes / 1024, who = concat(user.name, '@', host.name)",
        r#"SELECT *, TRY_CAST(source_field("_source", 'bytes') AS DOUBLE) / 1024.0 AS "kb", concat("user.name", '@', "host.name") AS "who" FROM "events""#,
    );
    check(
        "events | extend n = source.port + 1",
        r#"SELECT *, "source.port" + 1 AS "n" FROM "events""#,
    );
}

#[test]
fn eval_replacing_a_column_excludes_the_old_one() {
    check(
        "events | eval user.name = lower(user.name)",
        r#"SELECT * EXCLUDE ("user.name"), lower("user.name") AS "user.name" FROM "events""#,
    );
    // A field from `_source` becomes a column: later stages read the new value.
    check(
        "events | eval winlog.x = upper(winlog.x) | where winlog.x == 'A'",
        r#"WITH "_s1" AS (SELECT *, upper(source_field("_source", 'winlog.x')) AS "winlog.x" FROM "events") SELECT * FROM "_s1" WHERE "winlog.x" = 'A'"#,
    );
}

#[test]
fn eval_assignments_see_earlier_ones() {
    check(
        "events | eval a = source.port * 2, b = a + 1",
        r#"WITH "_s1" AS (SELECT *, "source.port" * 2 AS "a" FROM "events") SELECT *, "a" + 1 AS "b" FROM "_s1""#,
    );
}

#[test]
fn eval_arithmetic_precedence_and_exact_division() {
    check(
        "events | eval x = (source.port + 1) * 2 - source.port / (3 - 1) % 4",
        r#"SELECT *, ("source.port" + 1) * 2 - "source.port" / CAST(3 - 1 AS DOUBLE) % 4 AS "x" FROM "events""#,
    );
    check(
        "events | eval x = source.port - (destination.port - 1), y = -(source.port + 1), z = -source.port",
        r#"SELECT *, "source.port" - ("destination.port" - 1) AS "x", -("source.port" + 1) AS "y", -"source.port" AS "z" FROM "events""#,
    );
    check(
        "events | eval r = source.port / destination.port",
        r#"SELECT *, "source.port" / CAST("destination.port" AS DOUBLE) AS "r" FROM "events""#,
    );
}

#[test]
fn eval_functions_map_to_sql() {
    let cases = [
        ("lower(user.name)", r#"lower("user.name")"#),
        ("upper(user.name)", r#"upper("user.name")"#),
        ("length(message)", r#"character_length("message")"#),
        ("trim(message)", r#"btrim("message")"#),
        ("coalesce(user.name, 'none')", r#"coalesce("user.name", 'none')"#),
        ("concat(user.name, host.name)", r#"concat("user.name", "host.name")"#),
        ("substr(message, 1, 5)", r#"substr("message", 1, 5)"#),
        ("substr(message, 3)", r#"substr("message", 3)"#),
        ("split_part(url.domain, '.', 1)", r#"split_part("url.domain", '.', 1)"#),
        ("replace(message, 'a', 'b')", r#"replace("message", 'a', 'b')"#),
        ("round(source.port / 7, 2)", r#"round("source.port" / 7.0, 2)"#),
        ("round(score)", r#"round(TRY_CAST(source_field("_source", 'score') AS DOUBLE))"#),
        ("abs(source.port)", r#"abs("source.port")"#),
        ("floor(score)", r#"floor(TRY_CAST(source_field("_source", 'score') AS DOUBLE))"#),
        ("ceil(1.5)", "ceil(1.5)"),
        ("date_trunc('Hour', @timestamp)", r#"date_trunc('hour', "@timestamp")"#),
        ("to_timestamp('2026-01-01T00:00:00Z')", "to_timestamp('2026-01-01T00:00:00Z')"),
        ("now()", "now()"),
        ("ago(1d)", "now() - INTERVAL '86400 seconds'"),
        (
            "bin(@timestamp, 1h)",
            r#"date_bin(INTERVAL '3600 seconds', "@timestamp", TIMESTAMP '1970-01-01T00:00:00Z')"#,
        ),
        ("bin(source.port, 100)", r#"floor("source.port" / 100) * 100"#),
        (
            "if(source.port < 1024, 'system', 'user')",
            r#"CASE WHEN "source.port" < 1024 THEN 'system' ELSE 'user' END"#,
        ),
        ("tonumber(winlog.x)", r#"TRY_CAST(source_field("_source", 'winlog.x') AS DOUBLE)"#),
        ("toint(winlog.x)", r#"TRY_CAST(source_field("_source", 'winlog.x') AS BIGINT)"#),
        ("tostring(source.port)", r#"CAST("source.port" AS VARCHAR)"#),
        ("exists(user.name)", r#""user.name" IS NOT NULL"#),
        ("isnull(user.name)", r#""user.name" IS NULL"#),
        ("LOWER(user.name)", r#"lower("user.name")"#),
    ];
    for (expr, expected) in cases {
        check(
            &format!("events | eval v = {expr}"),
            &format!(r#"SELECT *, {expected} AS "v" FROM "events""#),
        );
    }
}

#[test]
fn eval_after_sort_and_head_shares_their_select() {
    check(
        "events | sort @timestamp desc | head 3 | eval u = upper(user.name)",
        r#"SELECT *, upper("user.name") AS "u" FROM "events" ORDER BY "@timestamp" DESC NULLS LAST LIMIT 3"#,
    );
}

#[test]
fn names_are_quoted_and_text_is_escaped() {
    check(
        r#"events | where `we"ird name` == "it's" | fields `we"ird name`"#,
        r#"SELECT source_field("_source", 'we"ird name') AS "we""ird name" FROM "events" WHERE source_field("_source", 'we"ird name') = 'it''s'"#,
    );
    let sql = palisade_pipe::compile(r#"where `a"b` == 'c'"#, &|_| true).unwrap();
    assert_eq!(sql, r#"SELECT * FROM "events" WHERE "a""b" = 'c'"#);
}

#[test]
fn keywords_in_backticks_are_field_names() {
    check_where("`by` == 1", r#"TRY_CAST(source_field("_source", 'by') AS BIGINT) = 1"#);
}

#[test]
fn looks_like_pipe_tells_pipe_from_sql() {
    for pipe in [
        "events",
        "events | head",
        "events|head",
        "  \n\tevents\n| head",
        "Events | head",
        "| where x == 1",
        "// saved hunt\nevents | head",
    ] {
        assert!(looks_like_pipe(pipe), "{pipe:?}");
    }
    for not_pipe in [
        "",
        "SELECT * FROM events",
        "select count(*) from events",
        "events_2024 | head",
        "events.x | head",
        "eventsx",
        "events where x",
        "WITH e AS (SELECT 1) SELECT * FROM e",
        "where x == 1",
    ] {
        assert!(!looks_like_pipe(not_pipe), "{not_pipe:?}");
    }
}
