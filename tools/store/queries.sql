-- Hunting queries for the event store's SQL differential test (DuckDB vs DataFusion).
--
-- Table `events`, in the flat schema of crates/palisade-store/src/schema.rs; column names
-- contain dots, so they are always double-quoted. Time windows assume the generator's default
-- --start 2026-10-01T00:00:00Z --days 30.
--
-- Portability rules every query follows (both engines checked: DuckDB 2.0, DataFusion 55):
--  * every ORDER BY is total over the output columns, and names NULLS LAST where a sort key can
--    be NULL under DESC (DuckDB sorts NULLs last by default, DataFusion first under DESC);
--  * regexes use the `~` / `~*` operators (partial match in both); regexp_like() exists only in
--    DataFusion and regexp_matches() only in DuckDB;
--  * no backslash in a LIKE pattern (DataFusion treats it as the escape character, DuckDB does
--    not): Windows paths are tested with strpos()/starts_with()/ends_with() instead;
--  * no `/` between integers (DuckDB: float division, DataFusion: integer division), no
--    date_bin/time_bucket, regexp_count, approx_distinct, octet_length, `//`;
--  * no float in the output: averages are round()ed and cast to BIGINT, and sums are cast to
--    BIGINT (DuckDB's sum(BIGINT) is a HUGEINT);
--  * epoch seconds are CAST(floor(date_part('epoch', ts)) AS BIGINT); timestamps compare with
--    RFC 3339 string literals; `_source` keys are reached with split_part on the JSON text.

-- name: events_per_dataset
-- why: What does the store hold, and how much of each source?
SELECT "event.dataset" AS dataset, count(*) AS events, count(DISTINCT "host.name") AS hosts
FROM events
GROUP BY "event.dataset"
ORDER BY events DESC, dataset NULLS LAST;

-- name: rare_event_codes
-- why: Which Windows/Sysmon event IDs are rarest (log clearing, account creation hide here)?
SELECT "event.dataset" AS dataset, "event.code" AS code, "event.action" AS action, count(*) AS events
FROM events
WHERE "event.code" IS NOT NULL
GROUP BY "event.dataset", "event.code", "event.action"
ORDER BY events, dataset, code, action
LIMIT 8;

-- name: ssh_failed_top_sources
-- why: Which internet addresses hammer sshd the most, and how many accounts do they try?
SELECT "source.ip" AS source_ip, count(*) AS failures, count(DISTINCT "user.name") AS users_tried,
       count(DISTINCT "host.name") AS hosts_targeted
FROM events
WHERE "event.dataset" = 'system.auth' AND "event.outcome" = 'failure'
GROUP BY "source.ip"
ORDER BY failures DESC, source_ip
LIMIT 20;

-- name: ssh_invalid_usernames
-- why: Which non-existent account names do SSH scanners guess most?
SELECT "user.name" AS user_name, count(*) AS attempts, count(DISTINCT "source.ip") AS sources
FROM events
WHERE "event.dataset" = 'system.auth' AND "message" LIKE 'Invalid user %'
GROUP BY "user.name"
ORDER BY attempts DESC, user_name
LIMIT 25;

-- name: auth_failures_hourly_day1
-- why: Hourly histogram of failed authentications on the first day (spikes = bursts).
SELECT date_trunc('hour', "@timestamp") AS hour, count(*) AS failures,
       count(DISTINCT "source.ip") AS sources
FROM events
WHERE "event.category" = 'authentication' AND "event.outcome" = 'failure'
  AND "@timestamp" >= '2026-10-01T00:00:00Z' AND "@timestamp" < '2026-10-02T00:00:00Z'
GROUP BY date_trunc('hour', "@timestamp")
ORDER BY hour;

-- name: busiest_dns_hours
-- why: Top 10 hours by DNS volume over the whole period.
SELECT date_trunc('hour', "@timestamp") AS hour, count(*) AS queries,
       count(DISTINCT "dns.question.name") AS names
FROM events
WHERE "event.dataset" = 'dns'
GROUP BY date_trunc('hour', "@timestamp")
ORDER BY queries DESC, hour
LIMIT 10;

-- name: windows_logons_daily
-- why: Daily successful vs failed Windows logons (a failure spike is a spraying day).
SELECT date_trunc('day', "@timestamp") AS day,
       sum(CASE WHEN "event.code" = '4624' THEN 1 ELSE 0 END) AS successes,
       sum(CASE WHEN "event.code" = '4625' THEN 1 ELSE 0 END) AS failures,
       count(DISTINCT "user.name") AS users
FROM events
WHERE "event.dataset" = 'windows.security' AND "event.code" IN ('4624', '4625')
GROUP BY date_trunc('day', "@timestamp")
ORDER BY day;

-- name: logon_types
-- why: Stack Windows logon types (from _source) by outcome: RDP (10) and network (3) volumes.
SELECT split_part(split_part("_source", '"winlog.logon.type":"', 2), '"', 1) AS logon_type,
       "event.outcome" AS outcome, count(*) AS logons, count(DISTINCT "user.name") AS users
FROM events
WHERE "event.code" IN ('4624', '4625')
GROUP BY split_part(split_part("_source", '"winlog.logon.type":"', 2), '"', 1), "event.outcome"
ORDER BY logon_type, outcome;

-- name: brute_force_then_success
-- why: External addresses with 10+ failed logons to a host/account that later logged on there.
WITH fails AS (
    SELECT "source.ip" AS ip, "host.name" AS host, "user.name" AS user_name, count(*) AS failures,
           min("@timestamp") AS first_failure, max("@timestamp") AS last_failure
    FROM events
    WHERE "event.category" = 'authentication' AND "event.outcome" = 'failure'
      AND "source.ip" NOT LIKE '10.%' AND "source.ip" NOT LIKE '192.168.%' AND "source.ip" NOT LIKE '127.%'
    GROUP BY "source.ip", "host.name", "user.name"
    HAVING count(*) >= 10
), wins AS (
    SELECT "source.ip" AS ip, "host.name" AS host, "user.name" AS user_name, min("@timestamp") AS first_success
    FROM events
    WHERE "event.category" = 'authentication' AND "event.outcome" = 'success'
    GROUP BY "source.ip", "host.name", "user.name"
)
SELECT f.ip, f.host, f.user_name, f.failures, f.first_failure, f.last_failure, w.first_success
FROM fails f
JOIN wins w ON w.ip = f.ip AND w.host = f.host AND w.user_name = f.user_name
WHERE w.first_success > f.first_failure
ORDER BY f.first_failure, f.ip, f.host, f.user_name, f.failures, f.last_failure, w.first_success;

-- name: successful_logons_by_country
-- why: Least common countries of successful logons from the internet (geo lives in _source).
SELECT split_part(split_part("_source", '"source.geo.country_iso_code":"', 2), '"', 1) AS country,
       count(*) AS logons, count(DISTINCT "source.ip") AS sources, count(DISTINCT "user.name") AS users,
       min("@timestamp") AS first_seen
FROM events
WHERE "event.category" = 'authentication' AND "event.outcome" = 'success'
  AND "_source" LIKE '%"source.geo.country_iso_code":%'
GROUP BY split_part(split_part("_source", '"source.geo.country_iso_code":"', 2), '"', 1)
ORDER BY logons, country, sources, users, first_seen;

-- name: sudo_after_login_download
-- why: sudo commands that pipe a download into a shell (post-exploitation on Linux).
SELECT "@timestamp" AS ts, "host.name" AS host, "user.name" AS user_name, "process.command_line" AS command
FROM events
WHERE "event.action" = 'sudo' AND "process.command_line" ~ '(curl|wget)[^|]*\|\s*(ba)?sh'
ORDER BY ts, host, user_name, command;

-- name: sudo_rare_commands
-- why: Least frequent sudo command lines (stacking).
SELECT "process.command_line" AS command, count(*) AS runs, count(DISTINCT "user.name") AS users,
       count(DISTINCT "host.name") AS hosts
FROM events
WHERE "event.action" = 'sudo'
GROUP BY "process.command_line"
ORDER BY runs, command, users, hosts
LIMIT 10;

-- name: lateral_movement_network_logons
-- why: Accounts with type-3 logons to 20+ distinct hosts in one day (admin-share lateral movement).
SELECT "user.name" AS user_name, date_trunc('day', "@timestamp") AS day,
       count(DISTINCT "host.name") AS hosts, count(*) AS logons, count(DISTINCT "source.ip") AS sources
FROM events
WHERE "event.code" = '4624' AND "_source" LIKE '%"winlog.logon.type":"3"%'
GROUP BY "user.name", date_trunc('day', "@timestamp")
HAVING count(DISTINCT "host.name") >= 20
ORDER BY hosts DESC, user_name, day, logons, sources;

-- name: rare_parent_child
-- why: Least frequent parent -> child process pairs across 4688 and Sysmon 1.
SELECT "process.parent.executable" AS parent, "process.executable" AS child, count(*) AS events,
       count(DISTINCT "host.name") AS hosts
FROM events
WHERE ("event.dataset" = 'windows.security' AND "event.code" = '4688')
   OR ("event.dataset" = 'windows.sysmon_operational' AND "event.code" = '1')
GROUP BY "process.parent.executable", "process.executable"
ORDER BY events, hosts, parent, child
LIMIT 15;

-- name: office_spawning_shells
-- why: Office applications starting shells or LOLBins (maldoc execution).
SELECT "@timestamp" AS ts, "host.name" AS host, "user.name" AS user_name, "process.parent.executable" AS parent,
       "process.name" AS child, "process.command_line" AS command_line
FROM events
WHERE "event.code" = '4688'
  AND lower("process.parent.executable") ~ '\\(winword|excel|powerpnt|outlook)\.exe$'
  AND lower("process.name") IN ('powershell.exe', 'cmd.exe', 'mshta.exe', 'wscript.exe', 'cscript.exe',
                                'rundll32.exe', 'regsvr32.exe', 'certutil.exe')
ORDER BY ts, host, user_name, parent, child, command_line;

-- name: encoded_powershell
-- why: PowerShell with an encoded command or a hidden window.
SELECT "@timestamp" AS ts, "host.name" AS host, "event.code" AS code, left("process.command_line", 60) AS command_head
FROM events
WHERE lower("process.name") = 'powershell.exe'
  AND "process.command_line" ~* '\s-(e|ec|enc|encodedcommand|w(indowstyle)?\s+hidden)\s'
ORDER BY ts, host, code, command_head;

-- name: lolbin_downloads
-- why: certutil/mshta/PowerShell fetching code from a URL.
SELECT "host.name" AS host, "process.name" AS process, count(*) AS events, min("@timestamp") AS first_seen
FROM events
WHERE "event.category" = 'process'
  AND (lower("process.command_line") LIKE '%urlcache%'
       OR lower("process.command_line") ~ 'mshta(\.exe)?\s+https?://'
       OR lower("process.command_line") ~ '(iwr|invoke-webrequest|downloadstring)[^|]*(\|\s*iex|\))')
GROUP BY "host.name", "process.name"
ORDER BY first_seen, host, process, events;

-- name: credential_dump_and_recovery_inhibit
-- why: LSASS minidumps via comsvcs.dll, shadow-copy and backup-catalog deletion.
SELECT "@timestamp" AS ts, "host.name" AS host, "user.name" AS user_name, "process.name" AS process,
       "process.command_line" AS command_line
FROM events
WHERE "event.code" = '1'
  AND (lower("process.command_line") LIKE '%comsvcs%minidump%'
       OR lower("process.command_line") LIKE '%delete shadows%'
       OR lower("process.command_line") LIKE '%wbadmin%delete catalog%')
ORDER BY ts, host, user_name, process, command_line;

-- name: executables_in_user_writable_dirs
-- why: Processes started from Public, Temp or Downloads folders (path test without LIKE escapes).
SELECT "host.name" AS host, "process.executable" AS executable, count(*) AS starts, min("@timestamp") AS first_seen
FROM events
WHERE "event.category" = 'process'
  AND (strpos(lower("process.executable"), '\users\public\') > 0
       OR strpos(lower("process.executable"), '\appdata\local\temp\') > 0
       OR strpos(lower("process.executable"), '\downloads\') > 0)
GROUP BY "host.name", "process.executable"
ORDER BY first_seen, host, executable, starts;

-- name: masquerading_system_binaries
-- why: Well-known Windows process names running from outside System32.
SELECT "host.name" AS host, "process.name" AS process, "process.executable" AS executable, count(*) AS starts
FROM events
WHERE lower("process.name") IN ('svchost.exe', 'lsass.exe', 'services.exe', 'csrss.exe', 'winlogon.exe', 'smss.exe')
  AND NOT starts_with(lower("process.executable"), 'c:\windows\system32\')
GROUP BY "host.name", "process.name", "process.executable"
ORDER BY host, process, executable, starts;

-- name: rare_binary_hashes
-- why: SHA-256 of executed images seen on at most two hosts (stacking by prevalence).
SELECT "file.hash.sha256" AS sha256, "process.executable" AS executable,
       count(DISTINCT "host.name") AS hosts, count(*) AS executions
FROM events
WHERE "event.code" = '1' AND "file.hash.sha256" IS NOT NULL
GROUP BY "file.hash.sha256", "process.executable"
HAVING count(DISTINCT "host.name") <= 2
ORDER BY hosts, executions, executable, sha256
LIMIT 15;

-- name: dns_nxdomain_clients
-- why: Clients with the most NXDOMAIN answers (DGA malware, misconfiguration).
SELECT "source.ip" AS client, count(*) AS nxdomains, count(DISTINCT "dns.question.name") AS names
FROM events
WHERE "event.dataset" = 'dns' AND "_source" LIKE '%"dns.response_code":"NXDOMAIN"%'
GROUP BY "source.ip"
ORDER BY nxdomains DESC, client, names
LIMIT 10;

-- name: dga_like_domains
-- why: Clients resolving many long random-looking names under cheap TLDs (regex).
SELECT "source.ip" AS client, count(DISTINCT "dns.question.name") AS names, count(*) AS queries,
       min("@timestamp") AS first_seen, max("@timestamp") AS last_seen
FROM events
WHERE "event.dataset" = 'dns'
  AND "dns.question.name" ~ '^[a-z0-9]{12,}\.(xyz|top|biz|info)$'
  AND "dns.question.name" ~ '[0-9][a-z]'
GROUP BY "source.ip"
HAVING count(DISTINCT "dns.question.name") >= 5
ORDER BY names DESC, client, queries, first_seen, last_seen;

-- name: dns_tunnel_suspects
-- why: Registered domains with many distinct long TXT query names (DNS exfiltration).
SELECT reverse(split_part(reverse("dns.question.name"), '.', 2)) || '.' || reverse(split_part(reverse("dns.question.name"), '.', 1)) AS registered_domain,
       count(*) AS queries, count(DISTINCT "dns.question.name") AS distinct_names,
       max(length("dns.question.name")) AS max_name_length, count(DISTINCT "source.ip") AS clients
FROM events
WHERE "event.dataset" = 'dns' AND "dns.question.type" = 'TXT'
GROUP BY reverse(split_part(reverse("dns.question.name"), '.', 2)) || '.' || reverse(split_part(reverse("dns.question.name"), '.', 1))
HAVING count(DISTINCT "dns.question.name") >= 20 AND max(length("dns.question.name")) >= 50
ORDER BY distinct_names DESC, registered_domain, queries, max_name_length, clients;

-- name: newly_seen_domains
-- why: Domains first queried in the last ten days, most queried first (new infrastructure).
WITH firsts AS (
    SELECT "dns.question.name" AS name, min("@timestamp") AS first_seen, count(*) AS queries,
           count(DISTINCT "source.ip") AS clients
    FROM events
    WHERE "event.dataset" = 'dns' AND "dns.question.name" NOT LIKE '%.in-addr.arpa'
    GROUP BY "dns.question.name"
)
SELECT name, first_seen, queries, clients
FROM firsts
WHERE first_seen >= '2026-10-21T00:00:00Z'
ORDER BY queries DESC, name, first_seen, clients
LIMIT 10;

-- name: beaconing
-- why: Outbound source/destination pairs with many connections at regular intervals (C2 beacons).
WITH conns AS (
    SELECT "source.ip" AS src, "destination.ip" AS dst, "destination.port" AS dport,
           CAST(floor(date_part('epoch', "@timestamp")) AS BIGINT) AS ts
    FROM events
    WHERE "event.dataset" = 'firewall' AND "event.action" = 'accept' AND "source.ip" LIKE '10.%'
), gaps AS (
    SELECT src, dst, dport, ts - lag(ts) OVER (PARTITION BY src, dst, dport ORDER BY ts) AS gap
    FROM conns
)
SELECT src, dst, dport, count(*) + 1 AS connections, min(gap) AS min_gap_s, max(gap) AS max_gap_s,
       CAST(round(avg(gap)) AS BIGINT) AS avg_gap_s
FROM gaps
WHERE gap IS NOT NULL
GROUP BY src, dst, dport
HAVING count(*) >= 20 AND avg(gap) >= 30 AND stddev_pop(gap) < 0.2 * avg(gap)
ORDER BY connections DESC, src, dst, dport, min_gap_s, max_gap_s, avg_gap_s;

-- name: port_scanners
-- why: External sources probing 50+ distinct ports on one address (firewall denies).
SELECT "source.ip" AS source_ip, "destination.ip" AS target, count(DISTINCT "destination.port") AS ports,
       count(*) AS packets, min("@timestamp") AS first_seen, max("@timestamp") AS last_seen
FROM events
WHERE "event.dataset" = 'firewall' AND "event.action" = 'drop'
GROUP BY "source.ip", "destination.ip"
HAVING count(DISTINCT "destination.port") >= 50
ORDER BY ports DESC, source_ip, target, packets, first_seen, last_seen;

-- name: denied_top_ports
-- why: Top 3 denied destination ports per transport (window ranking).
SELECT transport, port, denies, rk
FROM (
    SELECT "network.transport" AS transport, "destination.port" AS port, count(*) AS denies,
           row_number() OVER (PARTITION BY "network.transport" ORDER BY count(*) DESC, "destination.port") AS rk
    FROM events
    WHERE "event.dataset" = 'firewall' AND "event.action" = 'drop'
    GROUP BY "network.transport", "destination.port"
) ranked
WHERE rk <= 3
ORDER BY transport, rk, port, denies;

-- name: denied_source_subnets
-- why: Top /24 networks by denied inbound connections (IP range roll-up with split_part).
SELECT split_part("source.ip", '.', 1) || '.' || split_part("source.ip", '.', 2) || '.' || split_part("source.ip", '.', 3) || '.0/24' AS subnet,
       count(*) AS denies, count(DISTINCT "source.ip") AS sources
FROM events
WHERE "event.dataset" = 'firewall' AND "event.action" = 'drop'
GROUP BY split_part("source.ip", '.', 1) || '.' || split_part("source.ip", '.', 2) || '.' || split_part("source.ip", '.', 3) || '.0/24'
ORDER BY denies DESC, subnet, sources
LIMIT 10;

-- name: source_ip_classes
-- why: Events per dataset from RFC 1918, loopback and public addresses (portable CIDR tests).
SELECT "event.dataset" AS dataset,
       CASE WHEN "source.ip" LIKE '10.%' THEN '10.0.0.0/8'
            WHEN "source.ip" LIKE '192.168.%' THEN '192.168.0.0/16'
            WHEN "source.ip" LIKE '172.%' AND TRY_CAST(split_part("source.ip", '.', 2) AS BIGINT) BETWEEN 16 AND 31 THEN '172.16.0.0/12'
            WHEN "source.ip" LIKE '127.%' THEN 'loopback'
            ELSE 'public' END AS ip_class,
       count(*) AS events, count(DISTINCT "source.ip") AS addresses
FROM events
WHERE "source.ip" IS NOT NULL
GROUP BY 1, 2
ORDER BY dataset, ip_class, events, addresses;

-- name: workstation_subnet_activity
-- why: What did hosts in 10.10.2.0/23 do? (numeric IP range via split_part arithmetic)
SELECT "event.dataset" AS dataset, count(*) AS events, count(DISTINCT "source.ip") AS addresses
FROM events
WHERE "source.ip" LIKE '10.%'
  AND TRY_CAST(split_part("source.ip", '.', 1) AS BIGINT) * 16777216 + TRY_CAST(split_part("source.ip", '.', 2) AS BIGINT) * 65536
      + TRY_CAST(split_part("source.ip", '.', 3) AS BIGINT) * 256 + TRY_CAST(split_part("source.ip", '.', 4) AS BIGINT)
      BETWEEN 168427520 AND 168428031
GROUP BY "event.dataset"
ORDER BY dataset, events, addresses;

-- name: scanners_on_ssh_and_firewall
-- why: Join of two sources: addresses that both failed SSH logons and were denied at the firewall.
WITH ssh AS (
    SELECT "source.ip" AS ip, count(*) AS ssh_failures, count(DISTINCT "user.name") AS users_tried
    FROM events
    WHERE "event.dataset" = 'system.auth' AND "event.outcome" = 'failure'
    GROUP BY "source.ip"
), fw AS (
    SELECT "source.ip" AS ip, count(*) AS fw_denies, count(DISTINCT "destination.port") AS ports
    FROM events
    WHERE "event.dataset" = 'firewall' AND "event.action" = 'drop'
    GROUP BY "source.ip"
)
SELECT ssh.ip, ssh.ssh_failures, ssh.users_tried, fw.fw_denies, fw.ports
FROM ssh JOIN fw ON ssh.ip = fw.ip
ORDER BY ssh.ssh_failures + fw.fw_denies DESC, ssh.ip, ssh.ssh_failures, ssh.users_tried, fw.fw_denies, fw.ports
LIMIT 15;

-- name: rare_user_agents
-- why: Least frequent user agents on the web servers (scanners and tools stand out).
SELECT "user_agent.original" AS user_agent, count(*) AS requests, count(DISTINCT "source.ip") AS sources
FROM events
WHERE "event.dataset" = 'nginx.access'
GROUP BY "user_agent.original"
ORDER BY requests, sources, user_agent
LIMIT 10;

-- name: web_error_sources
-- why: Clients with the most 4xx answers and distinct paths (content discovery).
SELECT "source.ip" AS source_ip, count(*) AS errors, count(DISTINCT "url.original") AS paths,
       count(DISTINCT "user_agent.original") AS user_agents
FROM events
WHERE "event.dataset" = 'nginx.access' AND "http.response.status_code" BETWEEN 400 AND 499
GROUP BY "source.ip"
ORDER BY errors DESC, source_ip, paths, user_agents
LIMIT 10;

-- name: sql_injection_attempts
-- why: URLs carrying SQL injection payloads (case-insensitive regex), by client and status.
SELECT "source.ip" AS source_ip, "url.domain" AS site, "http.response.status_code" AS status, count(*) AS requests
FROM events
WHERE "event.dataset" = 'nginx.access'
  AND "url.original" ~* '(union(%20|\+|\s)+(all(%20|\+|\s)+)?select|%27(%20|\+)*(or|and)(%20|\+)|sleep\(|@@version|drop(%20|\+)+table)'
GROUP BY "source.ip", "url.domain", "http.response.status_code"
ORDER BY source_ip, site, status, requests;

-- name: path_traversal
-- why: Directory traversal attempts, plain or URL-encoded, and whether they succeeded.
SELECT "@timestamp" AS ts, "source.ip" AS source_ip, "url.original" AS url, "http.response.status_code" AS status
FROM events
WHERE "event.dataset" = 'nginx.access'
  AND ("url.original" LIKE '%../%' OR strpos(lower("url.original"), '..%2f') > 0)
ORDER BY ts, source_ip, url, status;

-- name: webshell_posts
-- why: POSTs to PHP files under an upload directory that succeed (web shell use).
SELECT "source.ip" AS source_ip, "url.domain" AS site, "url.original" AS url, count(*) AS posts,
       min("@timestamp") AS first_seen, max("@timestamp") AS last_seen
FROM events
WHERE "http.request.method" = 'POST' AND "http.response.status_code" = 200
  AND "url.original" ~ '^/uploads/[^?]*\.php'
GROUP BY "source.ip", "url.domain", "url.original"
ORDER BY first_seen, source_ip, site, url, posts, last_seen;

-- name: web_bytes_top_clients
-- why: Top clients by response bytes (a _source number pulled out with split_part + TRY_CAST).
SELECT "source.ip" AS source_ip, count(*) AS requests,
       CAST(sum(TRY_CAST(regexp_replace(split_part("_source", '"http.response.body.bytes":', 2), '[^0-9].*$', '') AS BIGINT)) AS BIGINT) AS bytes
FROM events
WHERE "event.dataset" = 'nginx.access'
GROUP BY "source.ip"
ORDER BY bytes DESC NULLS LAST, source_ip, requests
LIMIT 10;

-- name: web_status_by_site
-- why: Response status mix per virtual host and method.
SELECT "url.domain" AS site, "http.request.method" AS method, "http.response.status_code" AS status, count(*) AS requests
FROM events
WHERE "event.dataset" = 'nginx.access' AND "http.request.method" IN ('GET', 'POST')
  AND "http.response.status_code" >= 400
GROUP BY "url.domain", "http.request.method", "http.response.status_code"
ORDER BY site, method, status, requests;

-- name: raw_log_search
-- why: Full-text search of raw events for sensitive paths, across every source.
SELECT "event.dataset" AS dataset, count(*) AS events, min("@timestamp") AS first_seen
FROM events
WHERE "event.original" LIKE '%/etc/passwd%' OR "event.original" LIKE '%lsass.dmp%' OR "event.original" LIKE '%win.ini%'
GROUP BY "event.dataset"
ORDER BY dataset, events, first_seen;
