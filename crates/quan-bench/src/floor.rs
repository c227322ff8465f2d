//! The HTTP floor: the most a bare axum route answers on this machine,
//! beside quan's sold-out answers from memory.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;

use anyhow::Context;
use quan_domain::BatchId;

use crate::http::{HttpBench, Server, free_port, wait_ready};
use crate::load::{Target, keep_pressing, sold_out_run};
use crate::run::Run;

/// The route and answer of a claim on a sold-out batch, served by axum and
/// tokio as `quan serve` runs them but with nothing of quan behind it: the
/// most any server on this stack answers on this machine, the floor under
/// quan's sold-out answers from memory (`quan bench claim --http`). Runs
/// until killed; started as `quan bench http-floor --listen ADDR`.
pub async fn floor_server(listen: SocketAddr) -> anyhow::Result<()> {
    use axum::Json;
    use axum::extract::Path;
    use axum::http::StatusCode;
    use axum::routing::{get, post};
    let app = axum::Router::new().route("/readyz", get(|| async { "ready" })).route(
        "/api/v1/batches/{id}/claims",
        post(|Path(id): Path<String>| async move {
            let body = serde_json::json!({"error": "sold_out", "message": format!("batch {id} has no vouchers left")});
            (StatusCode::CONFLICT, Json(body))
        }),
    );
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// The HTTP floor: the same load generator, connections and seconds as the
/// sold-out answers from memory, against [`floor_server`] in its own
/// process.
pub async fn floor_run(o: &HttpBench) -> anyhow::Result<Run> {
    let exe = std::env::current_exe().context("the quan executable")?;
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let child = Command::new(exe)
        .args(["bench", "http-floor", "--listen", &addr.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .context("starting the bare axum server")?;
    let mut server = Server { child, addr };
    wait_ready(&mut server, "the bare axum server", "its standard error").await?;
    let tokens: Arc<Vec<String>> =
        Arc::new((0..(o.connections * 2).max(1)).map(|i| format!("floor-{i:040}")).collect());
    let target = Target { batch: BatchId::from_uuid(uuid::Uuid::now_v7()), tokens, keys: false, solutions: None };
    let pressed = keep_pressing(addr, &target, o.pressing()).await;
    let _ = server.child.kill();
    let _ = server.child.wait();
    Ok(sold_out_run(FLOOR_RUN, pressed))
}

/// The name of [`floor_run`]'s line.
pub const FLOOR_RUN: &str = "HTTP floor: bare axum route, no quan";
