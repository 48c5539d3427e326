//! Exposure models: `exposure::Exposure::read` on an NRML XML (with inline assets, or with the
//! asset CSV packed after it) or on a stand-alone asset CSV.
//!
//! Input: `FILE [SEP CSV]`. When `FILE` starts with `<` it is written as `exposure.xml` and
//! `CSV` is written under every plain file name its `<assets>` element lists; otherwise `FILE`
//! is written as `exposure.csv` and read as a stand-alone asset CSV.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use renxing_risk::exposure::Exposure;
use renxing_risk::nrml::parse_xml;

fuzz_target!(|data: &[u8]| {
    let parts = common::split(data);
    let file = parts[0];
    let is_xml = file.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<');
    let written = if is_xml {
        let xml_path = common::scratch().join("exposure.xml");
        let text = String::from_utf8_lossy(file);
        // The asset CSV names come from the input: only plain names in the scratch folder.
        if let Ok(root) = parse_xml(&text, &xml_path)
            && let Some(assets) = root.find("exposureModel").and_then(|m| m.child("assets"))
        {
            let csv = parts.get(1).copied().unwrap_or(b"");
            for name in assets.text.split_whitespace() {
                if !common::plain_name(name) || name == "exposure.xml" {
                    return;
                }
                if common::write(name, csv).is_none() {
                    return;
                }
            }
        }
        common::write("exposure.xml", file)
    } else {
        common::write("exposure.csv", file)
    };
    let Some(path) = written else { return };
    if let Ok(ex) = Exposure::read(&path) {
        for a in &ex.assets {
            let _ = ex.occupants(a, None);
            let _ = ex.occupants(a, Some("night"));
        }
    }
});
