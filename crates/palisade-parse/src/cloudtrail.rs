//! AWS CloudTrail records normalised to ECS, dataset `aws.cloudtrail`.
//!
//! CloudTrail delivers log files to S3 as one JSON document `{"Records": [...]}`; [`records`]
//! splits such a file into its records, and [`from_json`] converts one record. A record is
//! recognised ([`looks_like`]) by its string `eventVersion`, `eventSource`, `eventName` and
//! `eventTime`.
//!
//! Every original field is kept, flattened under `aws.cloudtrail.*` with its CloudTrail name
//! (`aws.cloudtrail.userIdentity.arn`, `aws.cloudtrail.requestParameters.userName`...), each
//! string value capped at [`MAX_VALUE_LEN`] bytes. `requestParameters`, `responseElements`,
//! `additionalEventData` and `serviceEventDetails` can be huge and their keys are chosen by
//! each AWS API: each of them gives at most [`MAX_SUBTREE_FIELDS`] flattened fields (the
//! number left out is in `aws.cloudtrail.dropped_fields`), and the first three are also kept
//! whole as JSON text, as Elastic does, in `aws.cloudtrail.request_parameters`,
//! `aws.cloudtrail.response_elements` and `aws.cloudtrail.additional_eventdata`, cut at
//! [`MAX_RAW_LEN`] bytes.
//!
//! ECS fields: `@timestamp` (`eventTime`), `event.action` (`eventName`, as AWS spells it),
//! `event.provider` (`eventSource`), `event.id` (`eventID`), `event.outcome`, `error.code`,
//! `error.message`, `cloud.provider` (`aws`), `cloud.region`, `cloud.account.id`,
//! `source.ip`/`source.domain`/`source.address`, `user_agent.original`, `user.name`, `user.id`,
//! `user.target.name`, `user.target.group.name`, `tls.*` (from `tlsDetails`),
//! `aws.cloudtrail.user_identity.type`, `aws.cloudtrail.mfa_used`, `related.user`,
//! `related.ip`, `related.hosts`, and `event.category`/`event.type` by the rules of
//! [`classify`]. The full table is in `docs/parsers/cloudtrail.md`.

use palisade_event::{Event, Timestamp, Value};
use serde_json::Value as Json;

use crate::ecs::{self, EcsFields};
use crate::format::windows;

/// The `event.dataset` of every event this module produces.
pub const DATASET: &str = "aws.cloudtrail";
/// Longest string value kept in a flattened `aws.cloudtrail.*` field, in bytes.
pub const MAX_VALUE_LEN: usize = 8192;
/// Longest JSON text kept in `aws.cloudtrail.request_parameters`, `response_elements` and
/// `additional_eventdata`, in bytes (a longer text is cut, and is then no longer valid JSON).
pub const MAX_RAW_LEN: usize = 32 * 1024;
/// Most flattened fields kept from each of `requestParameters`, `responseElements`,
/// `additionalEventData` and `serviceEventDetails`.
pub const MAX_SUBTREE_FIELDS: usize = 256;

/// The record members whose content each AWS API chooses: bounded when flattened.
const FREE_FORM: [&str; 4] =
    ["requestParameters", "responseElements", "additionalEventData", "serviceEventDetails"];

/// True when `document` is a CloudTrail record: string `eventVersion`, `eventSource`,
/// `eventName` and `eventTime`.
#[must_use]
pub fn looks_like(document: &Json) -> bool {
    let Some(object) = document.as_object() else { return false };
    ["eventVersion", "eventSource", "eventName", "eventTime"]
        .iter()
        .all(|key| object.get(*key).is_some_and(Json::is_string))
}

/// The records of a CloudTrail log file as delivered to S3 (`{"Records": [...]}`), or `None`
/// when `document` is not one.
#[must_use]
pub fn records(document: &Json) -> Option<impl Iterator<Item = &Json>> {
    document.get("Records")?.as_array().map(|records| records.iter())
}

/// Converts one CloudTrail record into an event: every original field flattened under
/// `aws.cloudtrail.*`, plus the ECS fields, `event.dataset` and `@timestamp`.
#[must_use]
pub fn from_json(document: &Json) -> Event {
    let mut flat = Vec::with_capacity(64);
    let mut n_dropped = 0;
    match document.as_object() {
        Some(object) => {
            for (name, value) in object {
                let path = format!("aws.cloudtrail.{name}");
                if FREE_FORM.contains(&name.as_str()) {
                    let mut subtree = Vec::new();
                    windows::flatten_into(&path, value, &mut subtree);
                    if subtree.len() > MAX_SUBTREE_FIELDS {
                        n_dropped += subtree.len() - MAX_SUBTREE_FIELDS;
                        subtree.truncate(MAX_SUBTREE_FIELDS);
                    }
                    flat.extend(subtree);
                } else {
                    windows::flatten_into(&path, value, &mut flat);
                }
            }
        }
        None => windows::flatten_into("aws.cloudtrail", document, &mut flat),
    }
    crate::suricata::cap_values(&mut flat, MAX_VALUE_LEN);
    let mut event = Event::from_fields(flat);

    let mut fields = EcsFields::new();
    if n_dropped > 0 {
        fields.int("aws.cloudtrail.dropped_fields", i64::try_from(n_dropped).unwrap_or(i64::MAX));
    }
    map_record(document, &mut fields);
    fields.apply(&mut event);
    event.set_timestamp(text(document.get("eventTime")).and_then(|time| time.parse().ok()));
    event
}

fn map_record(document: &Json, fields: &mut EcsFields) {
    let event_name = text(document.get("eventName")).unwrap_or_default();
    let event_source = text(document.get("eventSource")).unwrap_or_default();
    let (category, types) = classify(
        event_source,
        event_name,
        document.get("readOnly").and_then(Json::as_bool),
        text(document.get("eventCategory")),
    );
    let outcome = outcome(document, event_name);
    fields.categorize(DATASET, "event", category, &types, Some(outcome));
    fields.name("event.action", event_name);
    fields.name("event.provider", event_source);
    if let Some(id) = text(document.get("eventID")) {
        fields.name("event.id", id);
    }
    if let Some(code) = text(document.get("errorCode")) {
        fields.name("error.code", code);
    }
    if let Some(message) = text(document.get("errorMessage")) {
        fields.text("error.message", message);
    }
    fields.name("cloud.provider", "aws");
    if let Some(region) = text(document.get("awsRegion")) {
        fields.name("cloud.region", region);
    }
    let identity = document.get("userIdentity");
    let account = text(document.get("recipientAccountId"))
        .or_else(|| text(identity.and_then(|identity| identity.get("accountId"))));
    if let Some(account) = account {
        fields.name("cloud.account.id", account);
    }
    if let Some(source) = text(document.get("sourceIPAddress")) {
        if fields.ip("source.ip", source) {
            fields.name("source.address", source);
        } else {
            fields.name("source.address", source);
            fields.host("source.domain", source);
        }
    }
    if let Some(agent) = text(document.get("userAgent")) {
        fields.text("user_agent.original", agent);
    }
    if let Some(identity) = identity {
        map_identity(identity, fields);
    }
    if event_source == "iam.amazonaws.com" {
        if let Some(target) = text(document.pointer("/requestParameters/userName")) {
            fields.user("user.target.name", target);
        }
        if let Some(group) = text(document.pointer("/requestParameters/groupName")) {
            fields.name("user.target.group.name", group);
        }
    }
    if event_name == "ConsoleLogin" {
        match text(document.pointer("/additionalEventData/MFAUsed")) {
            Some(used) if used.eq_ignore_ascii_case("yes") => {
                fields.flag("aws.cloudtrail.mfa_used", true)
            }
            Some(used) if used.eq_ignore_ascii_case("no") => {
                fields.flag("aws.cloudtrail.mfa_used", false)
            }
            _ => {}
        }
    }
    for (key, field) in [
        ("requestParameters", "aws.cloudtrail.request_parameters"),
        ("responseElements", "aws.cloudtrail.response_elements"),
        ("additionalEventData", "aws.cloudtrail.additional_eventdata"),
    ] {
        if let Some(value) = document.get(key).filter(|value| value.is_object() || value.is_array())
        {
            let raw = value.to_string();
            fields.set(field, Value::from(ecs::cap(&raw, MAX_RAW_LEN)));
        }
    }
    if let Some(tls) = document.get("tlsDetails") {
        if let Some((protocol, version)) =
            text(tls.get("tlsVersion")).and_then(crate::suricata::tls_version)
        {
            fields.name("tls.version_protocol", protocol);
            fields.name("tls.version", &version);
        }
        if let Some(cipher) = text(tls.get("cipherSuite")) {
            fields.name("tls.cipher", cipher);
        }
        if let Some(host) = text(tls.get("clientProvidedHostHeader")) {
            fields.name("tls.client.server_name", host);
            fields.related_host(host);
        }
    }
}

/// `user.name`, `user.id`, `aws.cloudtrail.user_identity.type`: `userName` when the identity
/// has one, `root` for the root user, else the last part of the ARN (the session name of an
/// assumed role, the name of a federated user). An AWS service (`AWSService`) has no user.
fn map_identity(identity: &Json, fields: &mut EcsFields) {
    let kind = text(identity.get("type"));
    if let Some(kind) = kind {
        fields.name("aws.cloudtrail.user_identity.type", kind);
    }
    if let Some(principal) = text(identity.get("principalId")) {
        fields.name("user.id", principal);
    }
    let arn_name = || {
        text(identity.get("arn"))
            .and_then(|arn| arn.rsplit_once('/'))
            .map(|(_, last)| last)
            .filter(|last| !last.is_empty())
    };
    let name = match kind {
        Some("Root") => Some("root"),
        _ => text(identity.get("userName")).or_else(arn_name),
    };
    if let Some(name) = name {
        fields.user("user.name", name);
    }
    // The role behind an assumed-role session: searchable in related.user with the session.
    if let Some(role) = text(identity.pointer("/sessionContext/sessionIssuer/userName")) {
        fields.related_user(role);
    }
}

/// `event.outcome`: a record with an `errorCode` failed, whatever else it says (a damaged or
/// forged record may claim `ConsoleLogin: Success` beside an error; the error wins, as it does
/// for `error.code`). Otherwise a ConsoleLogin states it in `responseElements.ConsoleLogin`; any
/// other record failed when it has an `errorMessage`, and succeeded otherwise.
fn outcome(document: &Json, event_name: &str) -> &'static str {
    if text(document.get("errorCode")).is_some() {
        return "failure";
    }
    if event_name == "ConsoleLogin" {
        match text(document.pointer("/responseElements/ConsoleLogin")) {
            Some("Success") => return "success",
            Some("Failure") => return "failure",
            _ => {}
        }
    }
    let failed =
        text(document.get("errorCode")).is_some() || text(document.get("errorMessage")).is_some();
    if failed { "failure" } else { "success" }
}

/// What a call does to its target, from its verb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Access,
    Creation,
    Deletion,
    Change,
}

fn verb(event_name: &str) -> Verb {
    let starts = |prefixes: &[&str]| {
        prefixes.iter().any(|prefix| {
            event_name.strip_prefix(prefix).is_some_and(|rest| {
                rest.bytes().next().is_none_or(|byte| byte.is_ascii_uppercase())
            })
        })
    };
    if starts(&[
        "Describe", "List", "Get", "Head", "Lookup", "Search", "BatchGet", "Select", "Scan",
        "Query", "Simulate",
    ]) {
        Verb::Access
    } else if starts(&["Create", "Run", "Allocate", "Import", "Register", "Upload", "Copy"]) {
        Verb::Creation
    } else if starts(&["Delete", "Terminate", "Release", "Deregister", "Purge", "Destroy"]) {
        Verb::Deletion
    } else {
        Verb::Change
    }
}

/// `event.category` and `event.type` of a record:
///
/// - `ConsoleLogin`, `GetSessionToken`, `GetFederationToken`, `AssumeRoot` and `AssumeRole*`:
///   authentication / start.
/// - IAM (`iam.amazonaws.com`): iam / creation, deletion, change or info by the verb, plus
///   `user` when the call is about a user or its credentials, `group` when about a group.
/// - S3 object calls (data events): file / creation (`PutObject`, `CopyObject`, uploads),
///   deletion (`Delete*`), change (other `Put*`), access (reads).
/// - Other data events: none.
/// - Any other management event: configuration / access, creation, deletion or change by
///   the verb (`readOnly: true` always gives access).
///
/// Verbs: `Describe`, `List`, `Get`, `Head`, `Lookup`, `Search`, `BatchGet`, `Select`, `Scan`,
/// `Query`, `Simulate` read; `Create`, `Run`, `Allocate`, `Import`, `Register`, `Upload`,
/// `Copy` create; `Delete`, `Terminate`, `Release`, `Deregister`, `Purge`, `Destroy` delete;
/// anything else (`Update`, `Put`, `Attach`, `Stop`, `Authorize`...) changes.
#[must_use]
pub fn classify(
    event_source: &str,
    event_name: &str,
    read_only: Option<bool>,
    event_category: Option<&str>,
) -> (&'static [&'static str], Vec<&'static str>) {
    let is_authentication = matches!(
        event_name,
        "ConsoleLogin" | "GetSessionToken" | "GetFederationToken" | "AssumeRoot"
    ) || event_name.starts_with("AssumeRole");
    if is_authentication {
        return (&["authentication"], vec!["start"]);
    }
    let mut action = verb(event_name);
    if read_only == Some(true) {
        action = Verb::Access;
    }
    if event_source == "iam.amazonaws.com" {
        let mut types = vec![match action {
            Verb::Access => "info",
            Verb::Creation => "creation",
            Verb::Deletion => "deletion",
            Verb::Change => "change",
        }];
        let about_user = [
            "User",
            "LoginProfile",
            "AccessKey",
            "MFADevice",
            "SSHPublicKey",
            "ServiceSpecificCredential",
            "SigningCertificate",
        ]
        .iter()
        .any(|noun| event_name.contains(noun));
        if about_user {
            types.push("user");
        }
        if event_name.contains("Group") {
            types.push("group");
        }
        return (&["iam"], types);
    }
    let is_s3_object = event_source == "s3.amazonaws.com"
        && (event_category == Some("Data")
            || event_name.contains("Object")
            || event_name.contains("MultipartUpload")
            || event_name.starts_with("UploadPart"));
    if is_s3_object {
        let kind = match event_name {
            "PutObject"
            | "CopyObject"
            | "CompleteMultipartUpload"
            | "CreateMultipartUpload"
            | "UploadPart"
            | "UploadPartCopy"
            | "RestoreObject" => "creation",
            _ if action == Verb::Deletion => "deletion",
            _ if action == Verb::Access => "access",
            _ if event_name.starts_with("Put") => "change",
            _ => "access",
        };
        return (&["file"], vec![kind]);
    }
    if event_category.is_some_and(|category| category != "Management") {
        return (&[], Vec::new());
    }
    let kind = match action {
        Verb::Access => "access",
        Verb::Creation => "creation",
        Verb::Deletion => "deletion",
        Verb::Change => "change",
    };
    (&["configuration"], vec![kind])
}

/// A non-empty string value.
fn text(value: Option<&Json>) -> Option<&str> {
    value.and_then(Json::as_str).filter(|text| !text.is_empty())
}

/// Parses a CloudTrail time (`2026-12-01T10:00:00Z`).
#[must_use]
pub fn parse_time(text: &str) -> Option<Timestamp> {
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_need_a_word_boundary() {
        assert_eq!(verb("GetObject"), Verb::Access);
        assert_eq!(verb("Get"), Verb::Access);
        assert_eq!(verb("Getaway"), Verb::Change);
        assert_eq!(verb("CreateUser"), Verb::Creation);
        assert_eq!(verb("DeleteTrail"), Verb::Deletion);
        assert_eq!(verb("StopLogging"), Verb::Change);
        assert_eq!(verb(""), Verb::Change);
    }

    #[test]
    fn classification_rules() {
        let iam = "iam.amazonaws.com";
        assert_eq!(
            classify(iam, "CreateUser", Some(false), None),
            (&["iam"][..], vec!["creation", "user"])
        );
        assert_eq!(classify(iam, "AddUserToGroup", None, None).1, vec!["change", "user", "group"]);
        assert_eq!(classify(iam, "ListUsers", Some(true), None).1, vec!["info", "user"]);
        assert_eq!(
            classify("sts.amazonaws.com", "AssumeRoleWithSAML", None, None).0,
            ["authentication"]
        );
        let trail = "cloudtrail.amazonaws.com";
        assert_eq!(
            classify(trail, "StopLogging", Some(false), None),
            (&["configuration"][..], vec!["change"])
        );
        assert_eq!(classify(trail, "DeleteTrail", None, None).1, vec!["deletion"]);
        let s3 = "s3.amazonaws.com";
        assert_eq!(
            classify(s3, "GetObject", Some(true), Some("Data")),
            (&["file"][..], vec!["access"])
        );
        assert_eq!(classify(s3, "PutObject", Some(false), Some("Data")).1, vec!["creation"]);
        assert_eq!(
            classify(s3, "PutBucketPolicy", Some(false), Some("Management")).0,
            ["configuration"]
        );
        assert_eq!(
            classify("lambda.amazonaws.com", "Invoke", None, Some("Data")).0,
            [] as [&str; 0]
        );
    }

    #[test]
    fn records_split_a_log_file() {
        let file =
            serde_json::json!({"Records": [{"eventVersion": "1.08"}, {"eventVersion": "1.09"}]});
        assert_eq!(records(&file).map(Iterator::count), Some(2));
        assert!(records(&serde_json::json!({"eventVersion": "1.08"})).is_none());
        assert!(records(&serde_json::json!({"Records": {}})).is_none());
    }
}
