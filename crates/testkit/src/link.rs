//! A TCP link a test can cut: the way to take a dependency "off the
//! network" for one process while every other test keeps using the real,
//! shared service. It forwards bytes untouched to the real service (no
//! mock: the answers are the service's own); while cut it closes every open
//! connection and every new one at once, as a network partition or a
//! crashed service would look to the client.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A forwarding link to `upstream` on a local port of its own.
#[derive(Debug, Clone)]
pub struct Link {
    addr: SocketAddr,
    cut: Arc<watch::Sender<bool>>,
}

impl Link {
    /// Listens on a free local port and forwards every connection to
    /// `upstream` (`host:port`) until the test ends.
    ///
    /// # Panics
    /// When no local port can be bound.
    pub async fn to(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a link port");
        let addr = listener.local_addr().expect("link address");
        let (cut, _) = watch::channel(false);
        let cut = Arc::new(cut);
        let upstream = upstream.to_owned();
        let state = cut.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let mut cut_now = state.subscribe();
                if *cut_now.borrow() {
                    drop(client);
                    continue;
                }
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let (mut client, mut server) = (client, server);
                    tokio::select! {
                        _ = copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut_now.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Self { addr, cut }
    }

    /// `http://127.0.0.1:<port>` followed by `path` (e.g. the registry's
    /// `/apis/ccompat/v7`).
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Closes every open connection and refuses new ones until
    /// [`Link::restore`].
    pub fn cut(&self) {
        self.cut.send_replace(true);
    }

    /// Forwards again.
    pub fn restore(&self) {
        self.cut.send_replace(false);
    }
}
