//! The demo's conversation with its server: JSON requests over keep-alive
//! connections (`quan_http::client::Conn`), logins again after a shift.

use std::fmt::Write as _;
use std::net::SocketAddr;

use anyhow::{Context, bail};
use quan_http::client::Conn;
use serde_json::{Value, json};

/// A JSON request over a keep-alive connection: (status, body).
pub(super) async fn call(
    conn: &mut Conn,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> anyhow::Result<(u16, Vec<u8>)> {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: quan\r\nContent-Length: {}\r\n", body.len());
    if !body.is_empty() {
        raw.push_str("Content-Type: application/json\r\n");
    }
    if let Some(t) = token {
        let _ = write!(raw, "Authorization: Bearer {t}\r\n");
    }
    for (k, v) in headers {
        let _ = write!(raw, "{k}: {v}\r\n");
    }
    raw.push_str("\r\n");
    raw.push_str(&body);
    conn.request(&raw).await.with_context(|| format!("{method} {path}"))
}

pub(super) async fn call_json(
    conn: &mut Conn,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> anyhow::Result<(u16, Value)> {
    let (status, bytes) = call(conn, method, path, token, body, &[]).await?;
    Ok((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
}

/// Fails with the answer unless the status is `want`.
pub(super) async fn expect(
    conn: &mut Conn,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
    want: u16,
) -> anyhow::Result<Value> {
    let (status, v) = call_json(conn, method, path, token, body).await?;
    if status != want {
        bail!("{method} {path}: expected {want}, got {status}: {v}");
    }
    Ok(v)
}

/// Runs many futures on this task, all at once.
pub(super) async fn futures_join<F: std::future::Future<Output = ()>>(fs: impl Iterator<Item = F>) {
    let mut set: Vec<std::pin::Pin<Box<F>>> = fs.map(Box::pin).collect();
    std::future::poll_fn(|cx| {
        set.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if set.is_empty() { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    })
    .await;
}

pub(super) async fn connect_many(addr: SocketAddr, n: usize) -> anyhow::Result<Vec<Conn>> {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(Conn::connect(addr).await?);
    }
    Ok(v)
}

/// Staff sessions last a working day: each step of the demo logs in afresh.
pub(super) async fn relogin(
    c: &mut Conn,
    passwords: &[(&str, String)],
    name: &str,
) -> anyhow::Result<(String, String)> {
    let pw = passwords.iter().find(|(n, _)| *n == name).map(|(_, p)| p.clone()).unwrap_or_default();
    Ok((name.to_owned(), relogin_with(c, name, &pw).await?))
}

pub(super) async fn relogin_with(c: &mut Conn, name: &str, password: &str) -> anyhow::Result<String> {
    let v = expect(c, "POST", "/api/v1/auth/login", None, Some(&json!({"username": name, "password": password})), 200)
        .await?;
    Ok(v["token"].as_str().unwrap_or_default().to_owned())
}
