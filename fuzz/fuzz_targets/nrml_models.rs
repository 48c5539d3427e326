//! NRML XML: `nrml::parse_xml`, then the fragility and vulnerability model builders, then the
//! functions of the models that were accepted, evaluated at a few intensities.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use renxing_risk::fragility::FragilityModel;
use renxing_risk::nrml::parse_xml;
use renxing_risk::vulnerability::VulnerabilityModel;

const XS: [f64; 9] = [0.0, 1e-12, 0.01, 0.1, 0.3, 1.0, 5.0, f64::INFINITY, f64::NAN];

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let path = Path::new("fuzz.xml");
    let Ok(root) = parse_xml(&text, path) else { return };
    if let Ok(m) = FragilityModel::from_element(&root, path) {
        for f in m.functions.values() {
            let mut out = vec![0.0; f.limit_states() + 1];
            for x in XS {
                f.damage_fractions(x, &mut out);
            }
        }
    }
    if let Ok(m) = VulnerabilityModel::from_element(&root, path) {
        for f in m.functions.values() {
            for x in XS {
                let _ = f.mean_loss_ratio(x);
            }
            let _ = f.has_covs();
        }
    }
});
