//! API errors: a status and a JSON body `{"error": message, "field": name}` naming what is wrong.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use renxing_monitor::MonitorError;
use serde::Serialize;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub field: Option<String>,
    /// Seconds, for 429.
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    /// 400 naming `field`.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError {
            field: Some(field.into()),
            ..ApiError::new(StatusCode::BAD_REQUEST, message)
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, message)
    }
}

impl From<MonitorError> for ApiError {
    fn from(e: MonitorError) -> ApiError {
        match e {
            MonitorError::Invalid { field, message } => ApiError::field(field, message),
            MonitorError::Input { file, message } => ApiError::field("body", format!("{file}: {message}")),
            MonitorError::NotFound(what) => ApiError::new(StatusCode::NOT_FOUND, format!("not found: {what}")),
            MonitorError::Forbidden(why) => ApiError::new(StatusCode::FORBIDDEN, why),
            MonitorError::Unauthenticated(why) => ApiError::unauthorized(why),
            MonitorError::Conflict(why) => ApiError::new(StatusCode::CONFLICT, why),
            MonitorError::Storage(why) => {
                eprintln!("renxing serve: storage error: {why}");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "storage error (logged on the server)",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_string(&Body {
            error: &self.message,
            field: self.field.as_deref(),
        })
        .unwrap_or_else(|_| "{\"error\":\"error\"}".into());
        let mut r = (self.status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
        if let Some(s) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
