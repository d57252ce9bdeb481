//! Value modifiers: the closed set the specification defines (appendix "Sigma Modifiers",
//! v2.1.0), parsed from the `field|mod1|mod2` key syntax.

/// One value modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Modifier {
    /// `contains`: `*value*`.
    Contains,
    /// `startswith`: `value*`.
    StartsWith,
    /// `endswith`: `*value`.
    EndsWith,
    /// `all`: values are ANDed instead of ORed.
    All,
    /// `exists`: the field is present (true) or absent (false).
    Exists,
    /// `cased`: case-sensitive matching.
    Cased,
    /// `neq`: the field differs from every value.
    Neq,
    /// `windash`: `-` and `/` (and the Unicode dashes) interchangeable at option starts.
    Windash,
    /// `re`: regular expression.
    Re,
    /// `i` after `re`: case-insensitive.
    ReIgnoreCase,
    /// `m` after `re`: multi-line anchors.
    ReMultiLine,
    /// `s` after `re`: dot matches newline.
    ReDotAll,
    /// `base64`.
    Base64,
    /// `base64offset`: the three shifted base64 renderings.
    Base64Offset,
    /// `utf16le` / `wide`.
    Utf16Le,
    /// `utf16be`.
    Utf16Be,
    /// `utf16`: byte-order mark then UTF-16LE.
    Utf16,
    /// `lt`.
    Lt,
    /// `lte`.
    Lte,
    /// `gt`.
    Gt,
    /// `gte`.
    Gte,
    /// `cidr`.
    Cidr,
    /// `expand`: placeholders.
    Expand,
    /// `fieldref`: the value names another field.
    FieldRef,
    /// Time part modifiers.
    Minute,
    /// `hour`.
    Hour,
    /// `day`.
    Day,
    /// `week`.
    Week,
    /// `month`.
    Month,
    /// `year`.
    Year,
}

impl Modifier {
    /// Parses a modifier name as written after `|`.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "contains" => Modifier::Contains,
            "startswith" => Modifier::StartsWith,
            "endswith" => Modifier::EndsWith,
            "all" => Modifier::All,
            "exists" => Modifier::Exists,
            "cased" => Modifier::Cased,
            "neq" => Modifier::Neq,
            "windash" => Modifier::Windash,
            "re" => Modifier::Re,
            "i" => Modifier::ReIgnoreCase,
            "m" => Modifier::ReMultiLine,
            "s" => Modifier::ReDotAll,
            "base64" => Modifier::Base64,
            "base64offset" => Modifier::Base64Offset,
            "utf16le" | "wide" => Modifier::Utf16Le,
            "utf16be" => Modifier::Utf16Be,
            "utf16" => Modifier::Utf16,
            "lt" => Modifier::Lt,
            "lte" => Modifier::Lte,
            "gt" => Modifier::Gt,
            "gte" => Modifier::Gte,
            "cidr" => Modifier::Cidr,
            "expand" => Modifier::Expand,
            "fieldref" => Modifier::FieldRef,
            "minute" => Modifier::Minute,
            "hour" => Modifier::Hour,
            "day" => Modifier::Day,
            "week" => Modifier::Week,
            "month" => Modifier::Month,
            "year" => Modifier::Year,
            _ => return None,
        })
    }
}

/// The modifiers of one detection key, sorted into what they mean for compilation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModifierSet {
    /// In written order.
    pub list: Vec<Modifier>,
}

impl ModifierSet {
    /// Returns true when the modifier is present.
    #[must_use]
    pub fn has(&self, modifier: Modifier) -> bool {
        self.list.contains(&modifier)
    }

    /// Returns the numeric comparison, if any.
    #[must_use]
    pub fn comparison(&self) -> Option<Modifier> {
        self.list
            .iter()
            .copied()
            .find(|m| matches!(m, Modifier::Lt | Modifier::Lte | Modifier::Gt | Modifier::Gte))
    }

    /// Returns the time part to extract, if any.
    #[must_use]
    pub fn time_part(&self) -> Option<Modifier> {
        self.list.iter().copied().find(|m| {
            matches!(
                m,
                Modifier::Minute
                    | Modifier::Hour
                    | Modifier::Day
                    | Modifier::Week
                    | Modifier::Month
                    | Modifier::Year
            )
        })
    }
}

/// Splits `field|mod1|mod2` into the field name and modifiers.
///
/// # Errors
/// Returns the first unknown modifier name.
pub fn split_key(key: &str) -> Result<(&str, ModifierSet), String> {
    let mut parts = key.split('|');
    let field = parts.next().unwrap_or_default();
    let mut set = ModifierSet::default();
    for name in parts {
        let modifier = Modifier::parse(name).ok_or_else(|| name.to_owned())?;
        set.list.push(modifier);
    }
    Ok((field, set))
}
