//! The web one-map: static files compiled into the binary (`web/`).

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::AppState;

const FILES: &[(&str, &str, &[u8])] = &[
    ("/", "text/html; charset=utf-8", include_bytes!("../web/index.html")),
    (
        "/app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../web/app.js"),
    ),
    (
        "/style.css",
        "text/css; charset=utf-8",
        include_bytes!("../web/style.css"),
    ),
    (
        "/vendor/maplibre-gl.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../web/vendor/maplibre-gl.js"),
    ),
    (
        "/vendor/maplibre-gl.css",
        "text/css; charset=utf-8",
        include_bytes!("../web/vendor/maplibre-gl.css"),
    ),
    (
        "/vendor/LICENSE-maplibre.txt",
        "text/plain; charset=utf-8",
        include_bytes!("../web/vendor/LICENSE-maplibre.txt"),
    ),
];

pub fn routes() -> Router<AppState> {
    let mut r = Router::new();
    for &(path, mime, body) in FILES {
        r = r.route(
            path,
            get(move || async move {
                (
                    [(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "no-cache")],
                    body,
                )
                    .into_response()
            }),
        );
    }
    r
}
