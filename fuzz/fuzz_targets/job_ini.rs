//! Job files: `oq::ini::JobIni::parse`, every key read as a number, a path and a Python
//! literal, and the whole input given to `oq::ini::PyValue::parse`.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use renxing_risk::oq::ini::{JobIni, PyValue};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(v) = PyValue::parse(&text) {
        let _ = (v.as_str(), v.as_f64());
    }
    let Ok(ini) = JobIni::parse(&text, Path::new("/fuzz/job.ini")) else {
        return;
    };
    for key in ini.keys.keys() {
        let _ = ini.get(key);
        let _ = ini.get_f64(key);
        let _ = ini.get_path(key);
        let _ = ini.position(key);
        if let Ok(Some(v)) = ini.get_py(key) {
            let _ = (v.as_str(), v.as_f64());
        }
    }
});
