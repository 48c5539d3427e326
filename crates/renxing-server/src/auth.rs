//! Who is calling: `Authorization: Bearer TOKEN` (a user's API token or a login session), or
//! the public. And the login rate limit.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use renxing_monitor::access::Principal;

use crate::AppState;
use crate::error::ApiError;

/// The caller of a request, and the token it came with.
pub struct Caller {
    pub principal: Principal,
    pub token: Option<String>,
}

impl Caller {
    /// The caller, who must be logged in (401 otherwise).
    pub fn user(&self) -> Result<&Principal, ApiError> {
        match self.principal {
            Principal::Public => Err(ApiError::unauthorized("log in first: send Authorization: Bearer TOKEN")),
            _ => Ok(&self.principal),
        }
    }
}

/// The bearer token of a request, not yet checked: handlers that make one store call check it
/// in that same call ([`AppState::blocking_as`]), saving a trip to the blocking pool.
pub struct Bearer(pub Option<String>);

fn bearer_token(parts: &Parts) -> Result<Option<String>, ApiError> {
    let Some(h) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    Ok(Some(
        h.to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 128)
            .ok_or_else(|| ApiError::unauthorized("Authorization: expected 'Bearer TOKEN'"))?
            .to_string(),
    ))
}

impl<S: Send + Sync> FromRequestParts<S> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Bearer, ApiError> {
        bearer_token(parts).map(Bearer)
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let Some(token) = bearer_token(parts)? else {
            return Ok(Caller {
                principal: Principal::Public,
                token: None,
            });
        };
        let t = token.clone();
        let principal = state.blocking(move |m| m.authenticate(&t)).await?;
        Ok(Caller {
            principal,
            token: Some(token),
        })
    }
}

/// Failed logins allowed per user name and per client address within the window.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimit {
    pub failures: usize,
    pub window: Duration,
}

impl Default for LoginLimit {
    /// 5 failures per 5 minutes.
    fn default() -> Self {
        LoginLimit {
            failures: 5,
            window: Duration::from_secs(300),
        }
    }
}

/// Failed login times per key (`name:…` and `ip:…`).
pub struct LoginLimiter {
    limit: LoginLimit,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    pub fn new(limit: LoginLimit) -> LoginLimiter {
        LoginLimiter {
            limit,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn keys(name: &str, ip: Option<IpAddr>) -> Vec<String> {
        let mut k = vec![format!("name:{name}")];
        if let Some(ip) = ip {
            k.push(format!("ip:{ip}"));
        }
        k
    }

    /// Seconds until the caller may try again, if it is blocked now.
    pub fn blocked(&self, name: &str, ip: Option<IpAddr>) -> Option<u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = None;
        for k in Self::keys(name, ip) {
            if let Some(q) = map.get_mut(&k) {
                while q.front().is_some_and(|t| now.duration_since(*t) >= self.limit.window) {
                    q.pop_front();
                }
                if q.len() >= self.limit.failures
                    && let Some(first) = q.front()
                {
                    let left = self.limit.window.saturating_sub(now.duration_since(*first));
                    wait = Some(wait.unwrap_or(0).max(left.as_secs().max(1)));
                }
            }
        }
        wait
    }

    pub fn failed(&self, name: &str, ip: Option<IpAddr>) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        // Bound the memory an attacker can make us hold.
        if map.len() > 100_000 {
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < self.limit.window));
        }
        for k in Self::keys(name, ip) {
            map.entry(k).or_default().push_back(now);
        }
    }

    pub fn succeeded(&self, name: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&format!("name:{name}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_allowed_failures_within_the_window() {
        let l = LoginLimiter::new(LoginLimit {
            failures: 3,
            window: Duration::from_millis(200),
        });
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(l.blocked("a", Some(ip)), None);
            l.failed("a", Some(ip));
        }
        assert!(l.blocked("a", Some(ip)).is_some());
        // Another name from the same address is blocked too (the address is over its limit).
        assert!(l.blocked("b", Some(ip)).is_some());
        // From elsewhere, another name is not.
        assert_eq!(l.blocked("b", Some("10.0.0.1".parse().unwrap())), None);
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(l.blocked("a", Some(ip)), None);
    }
}
