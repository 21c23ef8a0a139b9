//! A real S3-compatible server for the store tests: `s3s-fs` (crates.io) serving a temporary
//! folder over the S3 API on 127.0.0.1 and a free port, with request signatures checked. It
//! is built with the tests, so `cargo test` needs nothing installed beside PostgreSQL.
//!
//! One server per test process (that is, per test file), started by the first test that asks
//! for it, on a thread and a runtime of its own so that it outlives each test's runtime. Each
//! test gets a bucket of its own ([`Bucket`]), removed when the test ends.

use std::path::PathBuf;
use std::sync::OnceLock;

use guichet_server::config::S3Config;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

pub const ACCESS_KEY: &str = "guichet-test";
pub const SECRET_KEY: &str = "guichet-test-secret-key";
pub const REGION: &str = "us-east-1";

pub struct S3Server {
    pub endpoint: String,
    root: PathBuf,
}

static SERVER: OnceLock<S3Server> = OnceLock::new();

/// The test process's S3 server, started on first use.
pub fn shared() -> &'static S3Server {
    SERVER.get_or_init(start)
}

fn start() -> S3Server {
    let root = std::env::temp_dir().join(format!("guichet-s3-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&root).expect("S3 server folder");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.set_nonblocking(true).expect("non-blocking socket");
    let address = listener.local_addr().expect("local address");
    let files = s3s_fs::FileSystem::new(&root).expect("s3s-fs on the folder");
    let mut builder = S3ServiceBuilder::new(files);
    builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
    let service = builder.build();
    std::thread::Builder::new()
        .name("s3-test-server".to_owned())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("S3 server runtime");
            runtime.block_on(async move {
                let listener =
                    tokio::net::TcpListener::from_std(listener).expect("S3 server listener");
                let http = ConnBuilder::new(TokioExecutor::new());
                loop {
                    let Ok((socket, _)) = listener.accept().await else {
                        continue;
                    };
                    let connection = http
                        .serve_connection(TokioIo::new(socket), service.clone())
                        .into_owned();
                    tokio::spawn(async move {
                        let _ = connection.await;
                    });
                }
            });
        })
        .expect("S3 server thread");
    S3Server {
        endpoint: format!("http://{address}"),
        root,
    }
}

impl S3Server {
    /// A new, empty bucket (s3s-fs keeps a bucket as a folder).
    pub fn bucket(&self) -> Bucket {
        let name = format!("t-{}", uuid::Uuid::new_v4().simple());
        let dir = self.root.join(&name);
        std::fs::create_dir(&dir).expect("bucket folder");
        Bucket {
            name,
            dir,
            settings: self.settings(),
        }
    }

    /// How the server is reached (the bucket is chosen apart).
    pub fn settings(&self) -> S3Config {
        S3Config {
            endpoint: Some(self.endpoint.clone()),
            bucket: None,
            region: REGION.to_owned(),
            access_key_id: Some(ACCESS_KEY.to_owned()),
            secret_access_key: Some(SECRET_KEY.to_owned()),
            timeout: std::time::Duration::from_secs(10),
        }
    }
}

/// A bucket of the test server, removed when dropped.
pub struct Bucket {
    pub name: String,
    dir: PathBuf,
    settings: S3Config,
}

impl Bucket {
    /// The `GUICHET_*` settings of a `guichet` process whose store is this bucket.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let s = &self.settings;
        vec![
            ("GUICHET_STORE", "s3".to_owned()),
            (
                "GUICHET_S3_ENDPOINT",
                s.endpoint.clone().unwrap_or_default(),
            ),
            ("GUICHET_S3_BUCKET", self.name.clone()),
            ("GUICHET_S3_REGION", s.region.clone()),
            (
                "GUICHET_S3_ACCESS_KEY_ID",
                s.access_key_id.clone().unwrap_or_default(),
            ),
            (
                "GUICHET_S3_SECRET_ACCESS_KEY",
                s.secret_access_key.clone().unwrap_or_default(),
            ),
        ]
    }

    /// The S3 settings naming this bucket.
    pub fn settings(&self) -> S3Config {
        S3Config {
            bucket: Some(self.name.clone()),
            ..self.settings.clone()
        }
    }
}

impl Drop for Bucket {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
