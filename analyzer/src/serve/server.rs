//! The HTTPS server: accepts TLS connections, checks the bearer token, and hands each request
//! to [`Api::handle`] on a blocking thread (answers are computed from the model, and a log is
//! read from the bundle).

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;

use super::api::{self, Api};
use super::status::{Answer, failure};

/// Serves until the runtime stops.
pub(super) async fn serve(listener: TcpListener, tls: Arc<ServerConfig>, api: Api, token: String) {
    let api = Arc::new(api);
    let token: Arc<str> = Arc::from(format!("Bearer {token}"));
    let acceptor = TlsAcceptor::from(tls);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!("failed to accept a connection: {error}");
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let api = Arc::clone(&api);
        let token = Arc::clone(&token);
        tokio::spawn(async move {
            let stream = match acceptor.accept(stream).await {
                Ok(stream) => stream,
                Err(error) => {
                    tracing::debug!("TLS handshake with {peer} failed: {error}");
                    return;
                }
            };
            let service = service_fn(move |request| answer(Arc::clone(&api), Arc::clone(&token), request));
            if let Err(error) = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
                tracing::debug!("connection from {peer} ended: {error}");
            }
        });
    }
}

async fn answer(
    api: Arc<Api>,
    token: Arc<str>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let authorized = request
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .is_some_and(|value| constant_time_eq(value.as_bytes(), token.as_bytes()));
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let header = |name: hyper::header::HeaderName| {
        request.headers().get(name).and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned()
    };
    let accept = header(hyper::header::ACCEPT);
    let host = header(hyper::header::HOST);
    let answer = if authorized {
        let api = Arc::clone(&api);
        let (method, path, query) = (method.clone(), path.clone(), query.clone());
        tokio::task::spawn_blocking(move || {
            api.handle(&api::Request {
                method: &method,
                path: &path,
                query: &query,
                accept: &accept,
                host: &host,
            })
        })
        .await
        .unwrap_or_else(|_| failure(500, "InternalError", "the request failed inside kubesnap (a bug)", None))
    } else {
        failure(
            401,
            "Unauthorized",
            "Unauthorized: this server answers only the bearer token of its kubeconfig",
            None,
        )
    };
    tracing::info!("{method} {path}{}{query} -> {}", if query.is_empty() { "" } else { "?" }, answer.code);
    Ok(to_response(answer, &method))
}

fn to_response(answer: Answer, method: &str) -> Response<Full<Bytes>> {
    let mut builder = Response::builder()
        .status(answer.code)
        .header(hyper::header::CONTENT_TYPE, answer.content_type)
        .header("Cache-Control", "no-cache, private");
    for warning in &answer.warnings {
        // RFC 7234 warning: code 299, agent "-", quoted text (kubectl prints the text).
        let text = warning.replace(['"', '\\'], "'").replace(|c: char| c.is_control(), " ");
        builder = builder.header("Warning", format!("299 - \"{text}\""));
    }
    let body = if method == "HEAD" { Bytes::new() } else { Bytes::from(answer.body) };
    builder.body(Full::new(body)).unwrap_or_else(|_| Response::new(Full::new(Bytes::from_static(b"{}"))))
}

/// Compares without an early exit, so the time taken does not tell how much of a guess matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
