//! Windows events rendered as XML: `wevtutil qe Security /f:xml`, `/f:RenderedXml`, and
//! PowerShell's `Get-WinEvent ... | ForEach-Object { $_.ToXml() }`.
//!
//! The input holds one or many `<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">`
//! elements, with or without an `<Events>` wrapper and an XML declaration, in any mix of
//! single and double quotes and white space. Each event becomes one [`Event`] with exactly
//! the field names and value types of the EVTX path ([`crate::format::windows::from_evtx_json`]):
//! the XML is first turned into the JSON shape the `evtx` crate writes (`#attributes`,
//! `#text`, named `<Data>` as members, a repeated name as `Name_1`, unnamed `<Data>` items as
//! `Data`), then flattened by the same function. So `EventID`, `EventID_Qualifiers`,
//! `Provider_Name`, `Execution_ProcessID`, `TimeCreated_SystemTime`, the `<EventData>` names
//! and the `<UserData>` children are named alike whatever the input was.
//!
//! # Value types
//!
//! EVTX carries a type for every value; XML does not. The reader types a value the way the
//! `evtx` crate does for the types Windows uses in practice: in `<System>` and in attributes,
//! decimal integers become numbers (`EventID`, `Level`, `EventRecordID`, `ProcessID`...); in
//! `<EventData>` and `<UserData>` every value stays text, because most providers (Security
//! auditing, Sysmon) write their numbers as strings and a Sigma rule compares `4688` with
//! `"4688"` alike anyway. The corpus test (`tests/windows_xml.rs`) measures how often this
//! guess agrees with the EVTX types.
//!
//! # RenderingInfo
//!
//! `/f:RenderedXml` adds `<RenderingInfo Culture="en-US">` with the texts Event Viewer shows:
//! `Message` becomes `message`; `Level`, `Task`, `Opcode`, `Channel`, `Provider` and
//! `Culture` become `RenderingInfo.<name>`, and the `<Keyword>` items the list
//! `RenderingInfo.Keywords`.
//!
//! # Hostile input
//!
//! Events are found by their `<Event` start tags first and read one by one, so a damaged
//! event (unclosed element, bad markup, nesting deeper than [`MAX_DEPTH`]) gives an error
//! with its line, column and byte offset and the events after it are still read. quick-xml
//! never expands entities declared in a DTD: `&name;` of an unknown entity stays as written,
//! so a "billion laughs" document costs no more than its size. Only the five predefined
//! entities and character references are resolved. Memory and time are linear in the input.
//!
//! Not handled: a `<Event` start tag inside a CDATA section or a comment splits the event
//! there; namespace prefixes on the element names are dropped (`<e:Data>` reads as `Data`).

use std::borrow::Cow;

use palisade_event::{Event, Value};
use quick_xml::events::{BytesStart, Event as XmlEvent};
use quick_xml::reader::Reader;
use serde_json::{Map, Value as Json};

use crate::error::{ParseError, Result};
use crate::format::windows;

/// The deepest element nesting read inside one `<Event>`; deeper is an error. Real events
/// nest five levels at most (`Event/UserData/X/Y/Z`).
pub const MAX_DEPTH: usize = 64;

/// Reads Windows events rendered as XML (`<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">`,
/// one or many, with or without an `<Events>` wrapper, as `wevtutil qe /f:xml` and
/// `Get-WinEvent | ... ToXml()` write them) into events with the same field names as EVTX
/// input (`EventID`, `Channel`, `Provider_Name`, the EventData names...).
///
/// One item per `<Event>` element, in input order: the event, or the error of that element
/// with its position. Text with no `<Event>` element gives no item when it is empty or only an
/// XML declaration and an empty wrapper, and one error otherwise.
///
/// # Example
/// ```
/// let xml = r#"<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>
///   <Provider Name="Microsoft-Windows-Security-Auditing"/><EventID>4625</EventID>
///   <TimeCreated SystemTime="2024-05-01T10:00:00.000Z"/><Channel>Security</Channel>
///   </System><EventData><Data Name="TargetUserName">alice</Data></EventData></Event>"#;
/// let events = palisade_parse::format::windows_xml::read_xml(xml);
/// let event = events[0].as_ref().unwrap();
/// assert_eq!(event.get_str("EventID").as_deref(), Some("4625"));
/// assert_eq!(event.get_str("TargetUserName").as_deref(), Some("alice"));
/// ```
#[must_use]
pub fn read_xml(text: &str) -> Vec<Result<Event>> {
    let starts = event_starts(text);
    if starts.is_empty() {
        return if is_empty_document(text) {
            Vec::new()
        } else {
            vec![Err(error_at(text, 0, "no <Event> element"))]
        };
    }
    let mut results = Vec::with_capacity(starts.len());
    let mut line_counter = LineCounter::default();
    for (idx, &start) in starts.iter().enumerate() {
        let end = starts.get(idx + 1).copied().unwrap_or(text.len());
        let chunk = text.get(start..end).unwrap_or_default();
        results.push(match read_event(chunk) {
            Ok(root) => Ok(to_event(&root)),
            Err((offset, message)) => {
                let at = start + offset;
                let (line, column) = line_counter.position(text, at);
                Err(xml_error(line, column, at, &message))
            }
        });
    }
    results
}

/// Byte offsets of every `<Event` start tag (not `<Events`, `<EventData`, `<EventID`...).
fn event_starts(text: &str) -> Vec<usize> {
    memchr::memmem::find_iter(text.as_bytes(), b"<Event")
        .filter(|&at| {
            matches!(text.as_bytes().get(at + 6), Some(b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/'))
        })
        .collect()
}

fn is_empty_document(text: &str) -> bool {
    let mut rest = text.trim();
    if let Some(after) = rest.strip_prefix("<?xml") {
        rest = after.split_once("?>").map_or("", |(_, tail)| tail).trim();
    }
    rest.is_empty()
        || matches!(rest, "<Events/>" | "<Events />")
        || (rest.starts_with("<Events") && rest.ends_with("</Events>") && !rest.contains("<Event "))
}

/// Line and column of byte offsets given in increasing order, counted incrementally so that
/// many errors in a large input stay linear.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    line: usize,
    line_start: usize,
}

impl LineCounter {
    fn position(&mut self, text: &str, at: usize) -> (usize, usize) {
        let at = at.min(text.len());
        if at < self.offset {
            *self = Self::default();
        }
        let bytes = text.as_bytes().get(self.offset..at).unwrap_or_default();
        for newline in memchr::memchr_iter(b'\n', bytes) {
            self.line += 1;
            self.line_start = self.offset + newline + 1;
        }
        self.offset = at;
        let column = text.get(self.line_start..at).map_or(0, |part| part.chars().count());
        (self.line + 1, column + 1)
    }
}

fn error_at(text: &str, at: usize, message: &str) -> ParseError {
    let (line, column) = LineCounter::default().position(text, at);
    xml_error(line, column, at, message)
}

/// A Windows event that cannot be read, with its position.
fn xml_error(line: usize, column: usize, offset: usize, message: &str) -> ParseError {
    ParseError::Xml { line, column, offset, message: message.to_owned() }
}

/// One XML element: local name, attributes, child elements and text (entities resolved).
#[derive(Debug, Default)]
struct Element {
    name: String,
    attributes: Vec<(String, String)>,
    children: Vec<Element>,
    text: String,
}

impl Element {
    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|child| child.name == name)
    }

    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }
}

/// Reads the first element of `chunk` (which starts with `<Event`) into a tree. Errors carry
/// the byte offset inside the chunk.
fn read_event(chunk: &str) -> std::result::Result<Element, (usize, String)> {
    let mut reader = Reader::from_str(chunk);
    let config = reader.config_mut();
    config.trim_text(false);
    config.check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    loop {
        let position = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(error) => {
                let at = usize::try_from(reader.error_position()).unwrap_or(position);
                return Err((at, error.to_string()));
            }
        };
        match event {
            XmlEvent::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err((position, format!("elements nested deeper than {MAX_DEPTH}")));
                }
                stack.push(element(&start).map_err(|message| (position, message))?);
            }
            XmlEvent::Empty(start) => {
                let leaf = element(&start).map_err(|message| (position, message))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(leaf),
                    None => return Ok(leaf),
                }
            }
            XmlEvent::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err((position, "end tag without a start tag".to_owned()));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Ok(done),
                }
            }
            XmlEvent::Text(text) => {
                if let Some(top) = stack.last_mut() {
                    let raw = std::str::from_utf8(&text).unwrap_or_default();
                    top.text.push_str(raw);
                }
            }
            XmlEvent::CData(data) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(std::str::from_utf8(&data).unwrap_or_default());
                }
            }
            XmlEvent::GeneralRef(reference) => {
                if let Some(top) = stack.last_mut() {
                    let name = std::str::from_utf8(&reference).unwrap_or_default();
                    push_reference(&mut top.text, name);
                }
            }
            XmlEvent::Eof => {
                let open = stack.last().map_or("Event", |top| top.name.as_str());
                // Reported at the start of the event: the end of a cut event is where the
                // next one starts, which says little.
                return Err((0, format!("unclosed element <{open}>: the event is cut")));
            }
            XmlEvent::Comment(_) | XmlEvent::Decl(_) | XmlEvent::PI(_) | XmlEvent::DocType(_) => {}
        }
    }
}

fn element(start: &BytesStart<'_>) -> std::result::Result<Element, String> {
    let name = lossy_local(start.local_name().as_ref());
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|error| error.to_string())?;
        let key = attribute.key;
        // Namespace declarations are kept as the evtx crate keeps them (`xmlns`,
        // `xmlns:auto-ns3`); other prefixes are dropped.
        let key = if key.as_ref().starts_with(b"xmlns") {
            String::from_utf8_lossy(key.as_ref()).into_owned()
        } else {
            lossy_local(key.local_name().as_ref())
        };
        let raw = String::from_utf8_lossy(&attribute.value);
        attributes.push((key, unescape(&raw).into_owned()));
    }
    Ok(Element { name, attributes, ..Element::default() })
}

fn lossy_local(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}

/// Appends the text of `&name;`: a predefined entity or a character reference; anything else
/// (an entity a DTD would declare) is kept as written, never expanded.
fn push_reference(out: &mut String, name: &str) {
    if let Some(text) = quick_xml::escape::resolve_predefined_entity(name) {
        out.push_str(text);
    } else if let Some(ch) = char_reference(name) {
        out.push(ch);
    } else {
        out.push('&');
        out.push_str(name);
        out.push(';');
    }
}

fn char_reference(name: &str) -> Option<char> {
    let number = name.strip_prefix('#')?;
    let code = match number.strip_prefix('x') {
        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
        None => number.parse().ok()?,
    };
    char::from_u32(code).filter(|ch| *ch != '\0')
}

/// Resolves the references in an attribute value, leaving unknown ones as written.
fn unescape(raw: &str) -> Cow<'_, str> {
    if !raw.contains('&') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(rest.get(..at).unwrap_or_default());
        let after = rest.get(at + 1..).unwrap_or_default();
        // References are short; a `&` without a `;` soon after is kept as it is.
        match after.get(..after.len().min(34)).and_then(|head| head.find(';')) {
            Some(semi) => {
                push_reference(&mut out, after.get(..semi).unwrap_or_default());
                rest = after.get(semi + 1..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Turns the tree into the `evtx` crate's JSON shape, flattens it like EVTX input, then adds
/// the RenderingInfo texts.
fn to_event(root: &Element) -> Event {
    let mut inner = Map::new();
    if !root.attributes.is_empty() {
        inner.insert("#attributes".to_owned(), attributes_json(&root.attributes));
    }
    let mut names = NameCounts::default();
    for child in root.children.iter().filter(|child| child.name != "RenderingInfo") {
        let key = names.key(&child.name);
        let in_system = child.name == "System";
        inner.insert(key, element_json(child, in_system));
    }
    let mut document = Map::new();
    document.insert("Event".to_owned(), Json::Object(inner));
    let mut event = windows::from_evtx_json(&Json::Object(document));
    if let Some(rendering) = root.child("RenderingInfo") {
        add_rendering_info(rendering, &mut event);
    }
    event
}

fn add_rendering_info(rendering: &Element, event: &mut Event) {
    if let Some(culture) = rendering.attribute("Culture") {
        event.insert("RenderingInfo.Culture", Value::from(culture));
    }
    for child in &rendering.children {
        match child.name.as_str() {
            "Message" => {
                if !child.text.is_empty() {
                    event.insert("message", Value::from(child.text.as_str()));
                }
            }
            "Keywords" => {
                let keywords: Vec<Value> = child
                    .children
                    .iter()
                    .filter(|keyword| !keyword.text.is_empty())
                    .map(|keyword| Value::from(keyword.text.as_str()))
                    .collect();
                if !keywords.is_empty() {
                    event.insert("RenderingInfo.Keywords", Value::List(keywords));
                }
            }
            name => {
                if !child.text.is_empty() {
                    event.insert(format!("RenderingInfo.{name}"), Value::from(child.text.as_str()));
                }
            }
        }
    }
}

/// `_N` suffixes for repeated member names, as the `evtx` crate writes them (`Binary`,
/// `Binary_1`, ...).
#[derive(Default)]
struct NameCounts {
    seen: Vec<(String, usize)>,
}

impl NameCounts {
    fn key(&mut self, name: &str) -> String {
        if let Some((_, count)) = self.seen.iter_mut().find(|(seen, _)| seen == name) {
            let key = format!("{name}_{count}");
            *count += 1;
            key
        } else {
            self.seen.push((name.to_owned(), 1));
            name.to_owned()
        }
    }
}

fn attributes_json(attributes: &[(String, String)]) -> Json {
    Json::Object(attributes.iter().map(|(key, value)| (key.clone(), typed(value, true))).collect())
}

/// The JSON value of an element. `numbers` says whether decimal text becomes a number
/// (`<System>` and its children) or stays text (`<EventData>`, `<UserData>`).
fn element_json(element: &Element, numbers: bool) -> Json {
    if element.children.is_empty() {
        let text = (!element.text.is_empty()).then(|| typed(&element.text, numbers));
        if element.attributes.is_empty() {
            return text.unwrap_or(Json::Null);
        }
        let mut object = Map::new();
        object.insert("#attributes".to_owned(), attributes_json(&element.attributes));
        if let Some(text) = text {
            object.insert("#text".to_owned(), text);
        }
        return Json::Object(object);
    }
    let mut object = Map::new();
    if !element.attributes.is_empty() {
        object.insert("#attributes".to_owned(), attributes_json(&element.attributes));
    }
    let container = matches!(element.name.as_str(), "EventData" | "UserData");
    let named = container
        && element.children.iter().any(|child| {
            child.name == "Data" && child.attribute("Name").is_some_and(|n| !n.is_empty())
        });
    let mut names = NameCounts::default();
    let mut data_names = NameCounts::default();
    let mut positional = Vec::new();
    for child in &element.children {
        if container && child.name == "Data" {
            if named {
                // Unnamed Data next to named ones are left out, as the evtx crate does.
                if let Some(name) = child.attribute("Name").filter(|name| !name.is_empty()) {
                    object.insert(data_names.key(name), data_json(child));
                }
            } else {
                positional.push(data_json(child));
            }
            continue;
        }
        let child_numbers = numbers && !matches!(child.name.as_str(), "EventData" | "UserData");
        object.insert(names.key(&child.name), element_json(child, child_numbers));
    }
    if !positional.is_empty() {
        let text = if positional.len() == 1 {
            positional.pop().unwrap_or(Json::Null)
        } else {
            Json::Array(positional)
        };
        let mut data = Map::new();
        data.insert("#text".to_owned(), text);
        object.insert("Data".to_owned(), Json::Object(data));
    }
    Json::Object(object)
}

/// A `<Data>` value: its text (empty text stays an empty string), or, for the rare `<Data>`
/// with child elements, the element itself.
fn data_json(data: &Element) -> Json {
    if data.children.is_empty() {
        Json::String(data.text.clone())
    } else {
        element_json(data, false)
    }
}

/// Text as the `evtx` crate would type it: with `numbers`, a decimal integer without a
/// leading zero becomes a number.
fn typed(text: &str, numbers: bool) -> Json {
    if numbers && is_plain_integer(text) {
        if let Ok(int) = text.parse::<i64>() {
            return Json::from(int);
        }
        if let Ok(unsigned) = text.parse::<u64>() {
            return Json::from(unsigned);
        }
    }
    Json::String(text.to_owned())
}

fn is_plain_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty()
        && digits.len() <= 20
        && digits.bytes().all(|byte| byte.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && text != "-0"
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = "http://schemas.microsoft.com/win/2004/08/events/event";

    #[test]
    fn finds_event_start_tags_only() {
        let text = "<Events><Event xmlns='x'><System><EventID>1</EventID></System><EventData/></Event>\n<Event>";
        assert_eq!(event_starts(text), vec![8, 83]);
    }

    #[test]
    fn references_are_resolved_but_never_expanded() {
        assert_eq!(unescape("a &amp; b &#x41;&#66; &lol9; & c"), "a & b AB &lol9; & c");
        let mut out = String::new();
        push_reference(&mut out, "#0");
        assert_eq!(out, "&#0;");
    }

    #[test]
    fn positions_count_lines_and_columns() {
        let mut counter = LineCounter::default();
        assert_eq!(counter.position("ab\ncd\né", 4), (2, 2));
        assert_eq!(counter.position("ab\ncd\néx", 8), (3, 2));
    }

    #[test]
    fn typing_follows_the_evtx_crate() {
        assert_eq!(typed("4624", true), Json::from(4624));
        assert_eq!(typed("0x10", true), Json::from("0x10"));
        assert_eq!(typed("007", true), Json::from("007"));
        assert_eq!(typed("4624", false), Json::from("4624"));
        assert_eq!(typed("18446744073709551615", true), Json::from(u64::MAX));
    }

    #[test]
    fn repeated_and_unnamed_data() {
        let xml = format!(
            "<Event xmlns='{NS}'><System><EventID>1</EventID></System><EventData>\
             <Data>one</Data><Data>two</Data><Binary>00</Binary><Binary>01</Binary>\
             </EventData></Event>"
        );
        let events = read_xml(&xml);
        let event = events[0].as_ref().expect("event");
        assert_eq!(
            event.get("Data"),
            Some(&Value::List(vec![Value::from("one"), Value::from("two")]))
        );
        assert_eq!(event.get_str("Binary_1").as_deref(), Some("01"));
    }

    #[test]
    fn depth_is_bounded() {
        let deep = format!("<Event>{}", "<a>".repeat(MAX_DEPTH + 5));
        let events = read_xml(&deep);
        assert_eq!(events.len(), 1);
        let message = events[0].as_ref().expect_err("too deep").to_string();
        assert!(message.contains("nested deeper"), "{message}");
    }
}
