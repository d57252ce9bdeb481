//! Diagnostics: why a rule did not load, or what in it deserves a look.
//!
//! Every diagnostic carries a stable code (`SIG0001`...) so that users can search for it and
//! documentation can explain it (docs/sigma-diagnostics.md), plus the file and line it is about.

use std::fmt;
use std::path::PathBuf;

use crate::yaml::Pos;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The rule loads; this is worth knowing.
    Warning,
    /// The rule (or document) was not loaded.
    Error,
}

/// Stable diagnostic codes. Their meaning never changes; new ones are appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Code {
    /// SIG0001: the file is not valid YAML.
    YamlSyntax,
    /// SIG0002: a required key is missing (title, logsource, detection, condition).
    MissingKey,
    /// SIG0003: a key has the wrong type (e.g. a list where a string is required).
    WrongType,
    /// SIG0004: the condition does not parse.
    ConditionSyntax,
    /// SIG0005: the condition names a search identifier that the detection does not define.
    UnknownIdentifier,
    /// SIG0006: an unknown value modifier.
    UnknownModifier,
    /// SIG0007: a modifier combination or value that cannot be applied.
    InvalidValue,
    /// SIG0008: a regular expression that does not compile.
    InvalidRegex,
    /// SIG0009: a placeholder (`|expand`) with no value configured.
    UnresolvedPlaceholder,
    /// SIG0010: the deprecated aggregation syntax (`| count() by`) in a condition.
    DeprecatedAggregation,
    /// SIG0011: a correlation rule refers to a rule that is not loaded.
    UnknownRuleReference,
    /// SIG0012: the logsource is not covered by the field mapping; the rule runs unrestricted.
    UnmappedLogsource,
    /// SIG0013: a collection action (`action:`) is unknown or misplaced.
    CollectionAction,
    /// SIG0014: the same rule id is loaded twice; the later one is skipped.
    DuplicateId,
    /// SIG0015: an unknown top-level key (allowed by the specification, reported for typos).
    UnknownKey,
    /// SIG0016: a filter document refers to no loaded rule.
    FilterWithoutRule,
}

impl Code {
    /// Returns the stable code string, e.g. `SIG0004`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Code::YamlSyntax => "SIG0001",
            Code::MissingKey => "SIG0002",
            Code::WrongType => "SIG0003",
            Code::ConditionSyntax => "SIG0004",
            Code::UnknownIdentifier => "SIG0005",
            Code::UnknownModifier => "SIG0006",
            Code::InvalidValue => "SIG0007",
            Code::InvalidRegex => "SIG0008",
            Code::UnresolvedPlaceholder => "SIG0009",
            Code::DeprecatedAggregation => "SIG0010",
            Code::UnknownRuleReference => "SIG0011",
            Code::UnmappedLogsource => "SIG0012",
            Code::CollectionAction => "SIG0013",
            Code::DuplicateId => "SIG0014",
            Code::UnknownKey => "SIG0015",
            Code::FilterWithoutRule => "SIG0016",
        }
    }
}

/// One finding about one rule file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// The rule file.
    pub file: PathBuf,
    /// The 1-based line (0 when unknown).
    pub line: usize,
    /// The 1-based column (0 when unknown).
    pub col: usize,
    /// The stable code.
    #[serde(serialize_with = "serialize_code")]
    pub code: Code,
    /// Whether the rule was dropped.
    pub severity: Severity,
    /// The rule title or id, when known.
    pub rule: Option<String>,
    /// What is wrong, in lower case without a trailing period.
    pub message: String,
}

fn serialize_code<S: serde::Serializer>(code: &Code, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(code.as_str())
}

impl Diagnostic {
    pub(crate) fn new(
        code: Code,
        severity: Severity,
        pos: Pos,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: PathBuf::new(),
            line: pos.line,
            col: pos.col,
            code,
            severity,
            rule: None,
            message: message.into(),
        }
    }

    pub(crate) fn error(code: Code, pos: Pos, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Error, pos, message)
    }

    pub(crate) fn warning(code: Code, pos: Pos, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Warning, pos, message)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(
            f,
            "{}:{}:{}: {severity}[{}]: {}",
            self.file.display(),
            self.line,
            self.col,
            self.code.as_str(),
            self.message
        )
    }
}
