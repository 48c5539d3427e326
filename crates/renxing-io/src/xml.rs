//! Small helpers over quick-xml shared by the XML readers (OSM, GraphML, NRML).

use quick_xml::events::attributes::Attribute;

/// An attribute's value, unescaped. The files read are UTF-8; the value is unescaped here so
/// that the result does not depend on quick-xml's `encoding` feature (another crate of the
/// workspace, calamine, turns it on, which removes `Attribute::unescape_value`).
pub fn attribute_value(a: &Attribute<'_>) -> Result<String, String> {
    let raw = std::str::from_utf8(&a.value).map_err(|e| format!("attribute value is not UTF-8: {e}"))?;
    quick_xml::escape::unescape(raw)
        .map(|v| v.into_owned())
        .map_err(|e| format!("malformed attribute value: {e}"))
}

#[cfg(test)]
mod tests {
    use quick_xml::events::attributes::Attribute;
    use quick_xml::name::QName;

    /// An attribute as read from a file (raw, still escaped).
    fn raw(v: &'static str) -> Attribute<'static> {
        Attribute {
            key: QName(b"k"),
            value: std::borrow::Cow::Borrowed(v.as_bytes()),
        }
    }

    #[test]
    fn entities_unescaped() {
        assert_eq!(
            super::attribute_value(&raw("a &amp; b &lt;c&gt;")).unwrap(),
            "a & b <c>"
        );
        assert!(super::attribute_value(&raw("a &nope b")).is_err());
    }
}
