//! Where a request came from, as far as the edge can tell: the peer that
//! connected (API Gateway's `requestContext.http.sourceIp`; the local
//! server's TCP peer) and the `X-Forwarded-For` chain it passed along. Which
//! of these is the shopper is decided against the tenant's trusted proxies
//! (`services::limits`).

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientAddress {
    /// `None` only for requests that reach a router without a network (in-process tests).
    pub peer: Option<IpAddr>,
    /// Left to right, as the header lists them (the nearest proxy last).
    pub forwarded_for: Vec<IpAddr>,
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        let from_gateway = parts.request_context_ref().and_then(|ctx| match ctx {
            RequestContext::ApiGatewayV2(ctx) => ctx.http.source_ip.as_deref().and_then(|ip| ip.parse().ok()),
            #[allow(unreachable_patterns)]
            _ => None,
        });
        let peer = from_gateway.or_else(|| parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()));
        let forwarded_for = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter_map(|entry| entry.trim().parse().ok())
            .collect();
        Ok(Self { peer, forwarded_for })
    }
}
