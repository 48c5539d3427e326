//! The HTTP server of the monitoring network (`renxing serve`): the JSON API over
//! [`renxing_monitor`], its OpenAPI document, the login rate limit and the web one-map.
//!
//! Thin by design: every rule (who may do what, validation, warnings, the audit chain) lives in
//! `renxing-monitor`; handlers parse the request, call the store on a blocking thread and map
//! errors to 4xx/5xx JSON (`{"error": …, "field": …}`, see [`error`]). The store is one
//! [`AnyMonitor`], SQLite or PostgreSQL, chosen by the `--db` URL.

mod api;
pub mod auth;
pub mod error;
mod export;
pub mod openapi;
mod web;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use renxing_monitor::store::AnyMonitor;

use crate::auth::{LoginLimit, LoginLimiter};
use crate::error::{ApiError, ApiResult};

/// Settings of a server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest request body accepted (bytes); larger ones get 413.
    pub max_body: usize,
    pub login_limit: LoginLimit,
    /// The date warnings are judged on; `None`: today (UTC).
    pub today: Option<(i32, u32, u32)>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_body: 8 << 20,
            login_limit: LoginLimit::default(),
            today: None,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    monitor: Arc<AnyMonitor>,
    /// One permit per store connection: store calls beyond that wait here, in arrival order,
    /// rather than as blocked threads racing for a connection's lock (which made the slowest
    /// requests of a busy server several times slower than the median).
    store_slots: Arc<tokio::sync::Semaphore>,
    limiter: Arc<LoginLimiter>,
    config: Arc<Config>,
}

impl AppState {
    pub fn new(monitor: AnyMonitor, config: Config) -> AppState {
        AppState {
            store_slots: Arc::new(tokio::sync::Semaphore::new(monitor.backend().connections().max(1))),
            monitor: Arc::new(monitor),
            limiter: Arc::new(LoginLimiter::new(config.login_limit)),
            config: Arc::new(config),
        }
    }

    /// Run a store call on the blocking pool (the stores are synchronous), once a connection
    /// is free.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&AnyMonitor) -> renxing_monitor::Result<T> + Send + 'static,
    ) -> ApiResult<T> {
        let slot = self.store_slots.clone().acquire_owned().await.map_err(|e| {
            ApiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                format!("store closed: {e}"),
            )
        })?;
        self.blocking_unqueued(move |m| {
            let _slot = slot;
            f(m)
        })
        .await
    }

    /// A store call on the blocking pool without a queue slot: for calls whose time goes to work
    /// outside the store (password hashing), which take a connection only briefly.
    pub async fn blocking_unqueued<T: Send + 'static>(
        &self,
        f: impl FnOnce(&AnyMonitor) -> renxing_monitor::Result<T> + Send + 'static,
    ) -> ApiResult<T> {
        let m = self.monitor.clone();
        tokio::task::spawn_blocking(move || f(&m))
            .await
            .map_err(|e| {
                ApiError::new(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    format!("task failed: {e}"),
                )
            })?
            .map_err(ApiError::from)
    }

    /// [`AppState::blocking`] as the holder of `bearer` (the public without one): the token is
    /// checked in the same store call (401 if unknown or expired).
    pub async fn blocking_as<T: Send + 'static>(
        &self,
        bearer: auth::Bearer,
        f: impl FnOnce(&AnyMonitor, &renxing_monitor::access::Principal) -> renxing_monitor::Result<T> + Send + 'static,
    ) -> ApiResult<T> {
        self.blocking(move |m| {
            let by = match &bearer.0 {
                None => renxing_monitor::access::Principal::Public,
                Some(t) => m.authenticate(t)?,
            };
            f(m, &by)
        })
        .await
    }

    fn today(&self) -> (i32, u32, u32) {
        self.config.today.unwrap_or_else(renxing_monitor::store::today_utc)
    }
}

/// The whole application: API under `/api`, the web one-map at `/`.
pub fn router(state: AppState) -> Router {
    let max = state.config.max_body;
    api::routes()
        .merge(web::routes())
        .layer(DefaultBodyLimit::max(max))
        .with_state(state)
}

/// Serve on `addr` until Ctrl-C / SIGTERM. `ready` is called with the bound address.
pub async fn serve(state: AppState, addr: SocketAddr, ready: impl FnOnce(SocketAddr)) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    ready(listener.local_addr()?);
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await
}

/// Serve on `addr` from a thread of its own (a 2-worker runtime) for as long as the process
/// runs: for tests and benchmarks that need a live server in-process. Returns the bound address.
pub fn spawn(state: AppState, addr: SocketAddr) -> std::io::Result<SocketAddr> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => return tx.send(Err(e)).unwrap_or(()),
        };
        let err = tx.clone();
        if let Err(e) = rt.block_on(serve(state, addr, move |a| tx.send(Ok(a)).unwrap_or(()))) {
            err.send(Err(e)).unwrap_or(());
        }
    });
    rx.recv()
        .map_err(|_| std::io::Error::other("server thread ended before binding"))?
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
