//! A small element tree for NRML (the Natural hazards' Risk Markup Language of OpenQuake).
//!
//! NRML files are XML in the namespaces `http://openquake.org/xmlns/nrml/0.4` or `/0.5`; Renxing
//! ignores namespaces and prefixes (`gml:posList` is read as `posList`). Every element keeps the
//! line it starts on so that the model readers ([`crate::fragility`], [`crate::vulnerability`],
//! [`crate::exposure`]) can name the line of a bad value.

use std::path::Path;

use quick_xml::events::Event;
use quick_xml::reader::Reader;
use renxing_io::error::IoError;

type Result<T> = std::result::Result<T, IoError>;

/// One XML element: local name, attributes (local names), text content and children.
#[derive(Debug, Clone, Default)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    /// Concatenated text directly inside this element, trimmed.
    pub text: String,
    pub children: Vec<Element>,
    /// 1-based line of the start tag.
    pub line: usize,
}

impl Element {
    /// The value of an attribute.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The first child with this local name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// All children with this local name.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The first descendant (depth first) with this local name, this element included.
    pub fn find(&self, name: &str) -> Option<&Element> {
        if self.name == name {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(name))
    }

    /// Position string for errors: `line N (<name>)`.
    pub fn position(&self) -> String {
        format!("line {} (<{}>)", self.line, self.name)
    }

    /// The text split on white space and parsed as numbers.
    pub fn numbers(&self, path: &Path) -> Result<Vec<f64>> {
        parse_numbers(&self.text).map_err(|bad| IoError::at(path, self.position(), format!("'{bad}' is not a number")))
    }

    /// A required attribute.
    pub fn req_attr(&self, path: &Path, name: &str) -> Result<&str> {
        self.attr(name)
            .ok_or_else(|| IoError::at(path, self.position(), format!("attribute '{name}' is missing")))
    }
}

/// Numbers separated by white space or commas; the offending token on failure.
pub fn parse_numbers(text: &str) -> std::result::Result<Vec<f64>, String> {
    text.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .map(|t| t.parse::<f64>().map_err(|_| t.to_string()))
        .collect()
}

fn local(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(name);
    match s.rfind(':') {
        Some(i) => s[i + 1..].to_string(),
        None => s.into_owned(),
    }
}

/// Deepest element nesting [`parse_xml`] accepts. NRML files nest fewer than ten levels; the
/// limit keeps the recursive tree walks ([`Element::find`], dropping the tree) off the end of the
/// stack on hostile input.
pub const MAX_XML_DEPTH: usize = 256;

/// Reads a whole XML file into its root element.
pub fn read_xml(path: &Path) -> Result<Element> {
    let text = std::fs::read_to_string(path).map_err(|e| IoError::os(path, e))?;
    parse_xml(&text, path)
}

/// Parses XML text into its root element; `path` names the file in errors.
pub fn parse_xml(text: &str, path: &Path) -> Result<Element> {
    // quick-xml skips a byte-order mark without counting it in `buffer_position`: drop it here
    // so that positions are byte offsets into `text`.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut line = 1usize;
    let mut counted = 0usize;
    let mut line_at = |pos: usize| {
        let pos = pos.min(text.len());
        if pos > counted {
            line += text.as_bytes()[counted..pos].iter().filter(|&&b| b == b'\n').count();
            counted = pos;
        }
        line
    };
    // Text of the current element since its last child or start tag: quick-xml hands it over in
    // pieces (text, entity references, CDATA), joined here and trimmed as one run.
    let mut pending = String::new();
    let flush = |stack: &mut Vec<Element>, pending: &mut String| {
        if let Some(top) = stack.last_mut() {
            let s = pending.trim();
            if !s.is_empty() {
                if !top.text.is_empty() {
                    top.text.push(' ');
                }
                top.text.push_str(s);
            }
        }
        pending.clear();
    };
    loop {
        let start = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| {
            let l = line_at(start);
            IoError::at(path, format!("line {l}"), format!("malformed XML: {e}"))
        })?;
        // Elements start at the first '<' after leading white space.
        // (Searched in bytes: `start` need not fall on a character boundary.)
        let tag_pos = start
            + text.as_bytes()[start.min(text.len())..]
                .iter()
                .position(|&b| b == b'<')
                .unwrap_or(0);
        match event {
            Event::Start(ref e) | Event::Empty(ref e) if root.is_none() => {
                flush(&mut stack, &mut pending);
                let is_empty = matches!(event, Event::Empty(_));
                let l = line_at(tag_pos);
                let mut el = Element {
                    name: local(e.name().as_ref()),
                    line: l,
                    ..Default::default()
                };
                for a in e.attributes() {
                    let a = a.map_err(|err| IoError::at(path, format!("line {l}"), format!("bad attribute: {err}")))?;
                    let v = renxing_io::xml::attribute_value(&a)
                        .map_err(|err| IoError::at(path, format!("line {l}"), err))?;
                    el.attrs.push((local(a.key.as_ref()), v));
                }
                // `<x/>` closes at once; `<x>` waits for its end tag.
                if stack.len() >= MAX_XML_DEPTH {
                    return Err(IoError::at(
                        path,
                        format!("line {l}"),
                        format!("elements nested deeper than {MAX_XML_DEPTH} levels"),
                    ));
                }
                if is_empty {
                    attach(&mut stack, &mut root, el);
                } else {
                    stack.push(el);
                }
            }
            Event::End(_) => {
                flush(&mut stack, &mut pending);
                let el = stack.pop().ok_or_else(|| {
                    IoError::at(
                        path,
                        format!("line {}", line_at(tag_pos)),
                        "closing tag without opening tag",
                    )
                })?;
                attach(&mut stack, &mut root, el);
            }
            Event::Text(t) => {
                let s = t
                    .decode()
                    .map_err(|err| IoError::at(path, format!("line {}", line_at(start)), format!("bad text: {err}")))?;
                let s = quick_xml::escape::unescape(&s)
                    .map_err(|err| IoError::at(path, format!("line {}", line_at(start)), format!("bad text: {err}")))?;
                pending.push_str(&s);
            }
            Event::GeneralRef(r) => {
                let at = format!("line {}", line_at(start));
                let bad = |m: String| IoError::at(path, at.clone(), m);
                match r
                    .resolve_char_ref()
                    .map_err(|e| bad(format!("bad character reference: {e}")))?
                {
                    Some(c) => pending.push(c),
                    None => {
                        let name = r.decode().map_err(|e| bad(format!("bad entity reference: {e}")))?;
                        let c = match name.as_ref() {
                            "amp" => '&',
                            "lt" => '<',
                            "gt" => '>',
                            "quot" => '"',
                            "apos" => '\'',
                            other => return Err(bad(format!("unknown entity &{other};"))),
                        };
                        pending.push(c);
                    }
                }
            }
            Event::CData(t) => {
                pending.push_str(&String::from_utf8_lossy(&t));
            }
            Event::Eof => break,
            Event::Start(_) | Event::Empty(_) => {
                return Err(IoError::at(
                    path,
                    format!("line {}", line_at(tag_pos)),
                    "more than one root element",
                ));
            }
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(IoError::new(
            path,
            format!("element <{}> is never closed", stack[0].name),
        ));
    }
    root.ok_or_else(|| IoError::new(path, "no XML element found"))
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, el: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_with_lines_and_namespaces() {
        let xml = "<?xml version=\"1.0\"?>\n<nrml xmlns:gml=\"x\">\n  <a id=\"1\">\n    <gml:posList> 1 2\n 3 </gml:posList>\n    <b x=\"y\"/>\n  </a>\n</nrml>\n";
        let root = parse_xml(xml, Path::new("t.xml")).unwrap();
        assert_eq!(root.name, "nrml");
        let a = root.child("a").unwrap();
        assert_eq!(a.line, 3);
        assert_eq!(a.attr("id"), Some("1"));
        let pl = a.child("posList").unwrap();
        assert_eq!(pl.numbers(Path::new("t.xml")).unwrap(), vec![1.0, 2.0, 3.0]);
        assert_eq!(pl.line, 4);
        let b = a.child("b").unwrap();
        assert_eq!(b.attr("x"), Some("y"));
        assert_eq!(b.line, 6);
    }

    /// Fuzzer finding: a byte-order mark followed by non-ASCII text made `parse_xml` slice the
    /// text inside a character (quick-xml does not count the mark in its positions) and panic.
    #[test]
    fn byte_order_mark_and_non_ascii_text() {
        let p = Path::new("bom.xml");
        let crash = "\u{feff}ml version     <imls imt=\"PGA\u{fffd}\">0.0001 0.2</imls>\n<meanLRs>\u{fffd}</meanLRs>";
        let err = parse_xml(crash, p).unwrap_err();
        assert!(err.message.contains("more than one root"), "{err}");
        let root = parse_xml("\u{feff}<nrml>\n  <a>é</a>\n  <b/>\n</nrml>\n", p).unwrap();
        assert_eq!(root.child("a").unwrap().text, "é");
        assert_eq!(root.child("a").unwrap().line, 2);
        assert_eq!(root.child("b").unwrap().line, 3);
    }

    /// Found while fuzzing: deeply nested elements overflowed the stack in `Element::find` and in
    /// dropping the tree.
    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let p = Path::new("deep.xml");
        let deep = format!("{}{}", "<a>\n".repeat(300_000), "</a>".repeat(300_000));
        let err = parse_xml(&deep, p).unwrap_err();
        assert_eq!(err.position.as_deref(), Some("line 257"), "{err}");
        assert!(err.message.contains("deeper than 256"), "{err}");
        let ok = format!("{}<b/>{}", "<a>".repeat(255), "</a>".repeat(255));
        assert_eq!(parse_xml(&ok, p).unwrap().find("b").unwrap().name, "b");
    }

    /// Entity and character references in text used to be dropped (quick-xml reports them as
    /// events of their own): `Stone &amp; Brick` read as `Stone  Brick`.
    #[test]
    fn entity_references_in_text_are_resolved() {
        let p = Path::new("e.xml");
        let root = parse_xml(
            "<nrml><d>Stone &amp; Brick &lt;1950&gt; &#x4E2D;&#22269;</d><e>a&amp;b</e></nrml>",
            p,
        )
        .unwrap();
        assert_eq!(root.child("d").unwrap().text, "Stone & Brick <1950> 中国");
        assert_eq!(root.child("e").unwrap().text, "a&b");
        let err = parse_xml("<nrml>\n<d>&nbsp;</d></nrml>", p).unwrap_err();
        assert!(err.message.contains("unknown entity &nbsp;"), "{err}");
        assert_eq!(err.position.as_deref(), Some("line 2"), "{err}");
    }

    #[test]
    fn malformed_xml_names_the_line() {
        let err = parse_xml("<a>\n<b>\n</a>\n", Path::new("t.xml")).unwrap_err();
        assert!(err.position.is_some(), "{err}");
    }
}
