//! Counting served JSON-RPC calls, for the node's Prometheus endpoint.

use jsonrpsee::{
    core::middleware::{Batch, Notification, RpcServiceT},
    types::Request,
};
use std::{
    future::Future,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

/// Counters of the RPC server.
#[derive(Debug, Default)]
pub struct RpcMetrics {
    requests: AtomicU64,
}

impl RpcMetrics {
    /// JSON-RPC calls and notifications received (each call of a batch counts).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn add(&self, n: u64) {
        self.requests.fetch_add(n, Ordering::Relaxed);
    }
}

/// An RPC middleware that counts every call into [`RpcMetrics`].
#[derive(Clone)]
pub(crate) struct Counting<S> {
    pub(crate) inner: S,
    pub(crate) metrics: Arc<RpcMetrics>,
}

impl<S: RpcServiceT + Send + Sync> RpcServiceT for Counting<S> {
    type MethodResponse = S::MethodResponse;
    type NotificationResponse = S::NotificationResponse;
    type BatchResponse = S::BatchResponse;

    fn call<'a>(
        &self,
        request: Request<'a>,
    ) -> impl Future<Output = Self::MethodResponse> + Send + 'a {
        self.metrics.add(1);
        self.inner.call(request)
    }

    fn batch<'a>(
        &self,
        requests: Batch<'a>,
    ) -> impl Future<Output = Self::BatchResponse> + Send + 'a {
        self.metrics.add(requests.len() as u64);
        self.inner.batch(requests)
    }

    fn notification<'a>(
        &self,
        n: Notification<'a>,
    ) -> impl Future<Output = Self::NotificationResponse> + Send + 'a {
        self.metrics.add(1);
        self.inner.notification(n)
    }
}
