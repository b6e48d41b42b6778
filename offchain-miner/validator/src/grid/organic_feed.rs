//! [`OrganicFeed`]: the gateway's organic verdicts over HTTP (`stvalidator --organic-from
//! URL`), folded into the grid scores at every grid step.
//!
//! Each pull asks `GET {URL}/organic?after=SEQ&netuid=N` for the verdicts after the state's
//! cursor, page after page while the gateway says more follow (at most [`MAX_PAGES`]). When
//! the answer comes from another gateway session than the cursor's (the gateway restarted),
//! the new session is read from sequence 0. A gateway that is down, slow or answers nonsense
//! never stops the validator: the pull logs a warning (at most one a minute for the same
//! problem) and the next step tries again.

use super::{
    organic::{continues, fold_page, FoldSummary, OrganicPage},
    score::GridScoring,
};
use crate::{report, state::State, Result, ValidatorError};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client},
    rt::TokioExecutor,
};
use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};
use tracing::{debug, info, warn};

/// Pages read per pull at most (the rest waits for the next step).
pub const MAX_PAGES: usize = 16;
/// Deadline of one request to the gateway.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// Largest answer read (a page holds at most a thousand verdicts of a few hundred bytes).
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// The same warning is repeated at most this often.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// A gateway's organic verdicts, read over HTTP.
pub struct OrganicFeed {
    base: String,
    client: Client<HttpConnector, Empty<Bytes>>,
    /// The last warning logged and when (repeats are throttled).
    warned: Option<(String, Instant)>,
}

impl std::fmt::Debug for OrganicFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrganicFeed").field("base", &self.base).finish_non_exhaustive()
    }
}

/// Checks the gateway's base URL (`http://HOST:PORT`, optionally with a path prefix) and
/// returns it without a trailing `/`. Anything else is a [`ValidatorError::Usage`].
pub fn parse_base(url: &str) -> Result<String> {
    let usage = |why: &str| {
        ValidatorError::Usage(format!("--organic-from {url:?}: {why} (e.g. http://127.0.0.1:8000)"))
    };
    let uri: http::Uri = url.parse().map_err(|_| usage("not a URL"))?;
    if uri.scheme_str() != Some("http") {
        return Err(usage("the gateway's base URL must start with http://"));
    }
    if uri.authority().is_none() {
        return Err(usage("no host"));
    }
    if uri.query().is_some() {
        return Err(usage("a base URL has no query"));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

impl OrganicFeed {
    /// A feed from the gateway at `url` ([`parse_base`]).
    pub fn new(url: &str) -> Result<Self> {
        let base = parse_base(url)?;
        let client = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
        Ok(Self { base, client, warned: None })
    }

    /// The gateway's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// One page: the verdicts of subnet `netuid` after sequence number `after`.
    pub async fn fetch(&self, after: u64, netuid: u16) -> Result<OrganicPage> {
        let err = |why: String| ValidatorError::Organic(format!("{}: {why}", self.base));
        let url = format!("{}/organic?after={after}&netuid={netuid}", self.base);
        let uri: http::Uri = url.parse().map_err(|e| err(format!("bad URL {url}: {e}")))?;
        let request = async {
            let resp = self.client.get(uri).await.map_err(|e| err(e.to_string()))?;
            let status = resp.status();
            let body = Limited::new(resp.into_body(), MAX_BODY_BYTES)
                .collect()
                .await
                .map_err(|e| err(format!("reading the answer: {e}")))?
                .to_bytes();
            if !status.is_success() {
                let text = String::from_utf8_lossy(body.get(..200).unwrap_or(body.as_ref()));
                return Err(err(format!("GET /organic answered {status}: {text}")));
            }
            serde_json::from_slice::<OrganicPage>(&body)
                .map_err(|e| err(format!("not an organic page: {e}")))
        };
        tokio::time::timeout(FETCH_TIMEOUT, request)
            .await
            .map_err(|_| err(format!("no answer within {FETCH_TIMEOUT:?}")))?
    }

    /// Reads every new verdict of subnet `netuid` and folds it into `state` at `block`
    /// ([`fold_page`]: only verdicts whose hotkey is the one `hotkeys` has at their uid).
    /// Never fails: a gateway that cannot be read is a warning, and what was folded before
    /// the failure stays folded (the cursor moved with it).
    pub async fn pull(
        &mut self,
        state: &mut State,
        netuid: u16,
        hotkeys: &BTreeMap<u16, String>,
        block: u64,
        params: &GridScoring,
    ) -> FoldSummary {
        let mut total = FoldSummary::default();
        for _ in 0..MAX_PAGES {
            let page = match self.next_page(state, netuid).await {
                Ok(page) => page,
                Err(e) => {
                    self.warn(e.to_string());
                    break;
                }
            };
            if self.warned.take().is_some() {
                info!("organic verdicts: the gateway at {} answers again", self.base);
            }
            if page.dropped > 0 {
                warn!(
                    "{} organic verdicts fell out of the gateway's log before they were read",
                    page.dropped
                );
            }
            let more = page.more && !page.verdicts.is_empty();
            total.absorb(fold_page(state, &page, netuid, hotkeys, block, params));
            if !more {
                break;
            }
        }
        for (uid, reason) in &total.bans {
            let score = state.grid.get(uid);
            warn!(
                uid,
                hotkey = %score.map(|s| report::short_hotkey(&s.hotkey)).unwrap_or_default(),
                "organic grid answer REJECTED by the gateway (banned until block {}): {reason}",
                score.and_then(|s| s.banned_until).unwrap_or(0)
            );
        }
        if total.folded() > 0 || total.skipped > 0 {
            info!(
                verified = total.verified,
                rejected = total.rejected,
                failed = total.failed,
                skipped = total.skipped,
                "organic verdicts folded"
            );
        }
        total
    }

    /// The page after the state's cursor; from sequence 0 when the gateway's session is not
    /// the cursor's.
    async fn next_page(&self, state: &State, netuid: u16) -> Result<OrganicPage> {
        let after = state.organic.as_ref().map_or(0, |c| c.next);
        let page = self.fetch(after, netuid).await?;
        if after == 0 || continues(state.organic.as_ref(), &page) {
            return Ok(page);
        }
        info!(
            "organic verdicts: the gateway at {} has a new session ({}): reading it from the start",
            self.base, page.session
        );
        self.fetch(0, netuid).await
    }

    /// Logs `message` as a warning unless the same one was logged in the last minute.
    fn warn(&mut self, message: String) {
        let now = Instant::now();
        let repeat = self
            .warned
            .as_ref()
            .is_some_and(|(m, at)| *m == message && now.duration_since(*at) < WARN_EVERY);
        if repeat {
            debug!("{message}");
        } else {
            warn!("{message}; organic verdicts are read again at the next step");
            self.warned = Some((message, now));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::organic::{OrganicCursor, OrganicOutcome, OrganicVerdict};
    use std::{
        io::{Read, Write},
        sync::{Arc, Mutex},
    };

    /// A fake gateway of session `s2` with verdicts 1..=3 for uid 1, two per page; it records
    /// the `after` of every request. Returns its URL and the record.
    fn fake_gateway() -> (String, Arc<Mutex<Vec<u64>>>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let asked = Arc::new(Mutex::new(Vec::new()));
        let record = asked.clone();
        std::thread::spawn(move || {
            for socket in listener.incoming() {
                let mut socket = socket.unwrap();
                let mut buf = vec![0u8; 4096];
                let n = socket.read(&mut buf).unwrap();
                let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                let after: u64 = head
                    .split("after=")
                    .nth(1)
                    .and_then(|rest| rest.split(['&', ' ']).next())
                    .and_then(|v| v.parse().ok())
                    .unwrap();
                record.lock().unwrap().push(after);
                let verdicts: Vec<OrganicVerdict> = (after + 1..=3)
                    .take(2)
                    .map(|seq| OrganicVerdict {
                        seq,
                        netuid: 2,
                        uid: 1,
                        hotkey: "5Miner".into(),
                        outcome: OrganicOutcome::Verified,
                        tokens_per_sec: Some(10.0),
                        reason: None,
                        at_ms: seq,
                    })
                    .collect();
                let next = verdicts.last().map_or(after.min(3), |v| v.seq);
                let page = OrganicPage {
                    session: "s2".into(),
                    next,
                    dropped: 0,
                    more: next < 3,
                    verdicts,
                };
                let body = serde_json::to_string(&page).unwrap();
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                     connection: close\r\n\r\n{body}",
                    body.len()
                );
                socket.write_all(resp.as_bytes()).unwrap();
                socket.shutdown(std::net::Shutdown::Write).unwrap();
            }
        });
        (url, asked)
    }

    #[tokio::test]
    async fn a_new_session_is_read_from_the_start_page_by_page() {
        let (url, asked) = fake_gateway();
        let mut feed = OrganicFeed::new(&url).unwrap();
        let mut state = State::new(2, "5Validator");
        // The cursor of a gateway process that has since restarted.
        state.organic = Some(OrganicCursor { session: "s1".into(), next: 7 });
        let hotkeys: BTreeMap<u16, String> = [(1, "5Miner".to_owned())].into_iter().collect();
        let params = GridScoring::default();
        let summary = feed.pull(&mut state, 2, &hotkeys, 10, &params).await;
        assert_eq!(summary.verified, 3);
        assert_eq!(*asked.lock().unwrap(), vec![7, 0, 2]);
        assert_eq!(state.organic, Some(OrganicCursor { session: "s2".into(), next: 3 }));
        assert_eq!(state.grid[&1].organic_verified, 3);
        // Nothing new: one request, nothing folded twice.
        let summary = feed.pull(&mut state, 2, &hotkeys, 11, &params).await;
        assert_eq!(summary, FoldSummary::default());
        assert_eq!(asked.lock().unwrap().last(), Some(&3));
        assert_eq!(state.grid[&1].organic_verified, 3);
    }

    #[test]
    fn base_urls_are_checked() {
        assert_eq!(parse_base("http://127.0.0.1:8000/").unwrap(), "http://127.0.0.1:8000");
        assert_eq!(parse_base("http://gw.local/prefix").unwrap(), "http://gw.local/prefix");
        for bad in ["127.0.0.1:8000", "https://gw.local", "http://gw/?a=1", "not a url", ""] {
            assert!(matches!(parse_base(bad), Err(ValidatorError::Usage(_))), "{bad}");
        }
    }

    #[tokio::test]
    async fn an_unreachable_gateway_is_a_warning_not_an_error() {
        // A port nobody listens on: bind one, then close it.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut feed = OrganicFeed::new(&format!("http://127.0.0.1:{port}")).unwrap();
        assert!(matches!(feed.fetch(0, 2).await, Err(ValidatorError::Organic(_))));
        let mut state = State::new(2, "5Validator");
        let summary = feed.pull(&mut state, 2, &BTreeMap::new(), 10, &GridScoring::default()).await;
        assert_eq!(summary, FoldSummary::default());
        assert!(state.organic.is_none());
        assert!(feed.warned.is_some());
    }
}
