//! The rules shipped inside the binary: detections for the data sources Palisade parses
//! itself (ECS events from syslog, auth logs, DNS, web), written for the field names our
//! parsers produce. They load with the user's rules and can be switched off like any rule.

/// `(file name, YAML text)` of every built-in rule file.
#[must_use]
pub fn rules() -> &'static [(&'static str, &'static str)] {
    &[(
        "linux_auth_password_guessing.yml",
        include_str!("../rules/linux_auth_password_guessing.yml"),
    )]
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use palisade_sigma::{Loader, Mapping, Pipeline};

    #[test]
    fn builtin_rules_load_without_problems() {
        let sources: Vec<(PathBuf, String)> = super::rules()
            .iter()
            .map(|(name, text)| (PathBuf::from(*name), (*text).to_owned()))
            .collect();
        let rules = Loader::new(Mapping::new(Pipeline::builtin())).load(&sources);
        assert_eq!(rules.errors().count(), 0, "{:?}", rules.diagnostics());
        let correlations = crate::correlation::CorrelationSet::compile(&rules);
        assert!(correlations.problems().is_empty(), "{:?}", correlations.problems());
        assert!(!correlations.correlations().is_empty());
    }
}
