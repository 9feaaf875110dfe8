//! The embedded default: a private PostgreSQL server run from the machine's PostgreSQL
//! installation, with its files in the service's data directory.
//!
//! Layout of the data directory:
//!
//! ```text
//! data/
//!   postgres/      the cluster (PGDATA), made by initdb on first start
//!   run/           the server's Unix socket; it listens on nothing else
//!   postgres.log   the server's own log
//! ```
//!
//! PostgreSQL refuses to run as root, so when the service runs as root the server runs as the
//! `postgres` system user that the PostgreSQL packages create, and owns `postgres/` and `run/`.
//! The server is a child process: it is stopped with the service, and the kernel stops it too if
//! the service dies without stopping it (Linux's parent-death signal). That signal follows the
//! *thread* that started the server, so [`EmbeddedPostgres::start`] must be called from a thread
//! that lives as long as the server should, such as the main thread.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{PermissionsExt, chown};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, User, geteuid};
use sha2::{Digest, Sha256};
use sqlx::postgres::PgConnectOptions;

/// The port number in the socket's file name (`.s.PGSQL.5432`); no TCP port is opened.
const PORT: u16 = 5432;
/// How long a start may take before it is given up on: initdb and recovery after a crash.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a fast shutdown may take before the server is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest Unix socket path the kernel accepts, less a margin.
const MAX_SOCKET_PATH: usize = 100;
/// The superuser initdb creates, and the user the service connects as.
const SUPERUSER: &str = "postgres";

/// A running embedded PostgreSQL server.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    /// The server process; `None` once stopped.
    child: Option<Child>,
    /// The directory holding the server's socket.
    socket_dir: PathBuf,
}

/// The OS user the server runs as, when the service runs as root.
struct RunAs {
    uid: nix::unistd::Uid,
    gid: nix::unistd::Gid,
}

impl EmbeddedPostgres {
    /// Starts a server on the cluster in `data_dir/postgres`, creating the cluster first if the
    /// directory is new. Blocks until the server accepts connections.
    pub fn start(data_dir: &Path) -> anyhow::Result<Self> {
        let bin = find_server_binaries()?;
        let run_as = run_as()?;
        fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
        let data_dir = data_dir
            .canonicalize()
            .with_context(|| format!("cannot resolve data directory {}", data_dir.display()))?;
        if let Some(run_as) = &run_as {
            check_reachable(&data_dir, run_as)?;
        }
        let pgdata = data_dir.join("postgres");
        let socket_dir = socket_dir(&data_dir);
        for dir in [&pgdata, &socket_dir] {
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
            if let Some(run_as) = &run_as {
                chown(dir, Some(run_as.uid.as_raw()), Some(run_as.gid.as_raw())).with_context(
                    || format!("cannot hand {} to the postgres user", dir.display()),
                )?;
            }
        }
        let log_path = data_dir.join("postgres.log");
        if !pgdata.join("PG_VERSION").exists() {
            tracing::info!(data_dir = %pgdata.display(), "creating the embedded database cluster");
            let mut initdb = Command::new(bin.join("initdb"));
            initdb.args([
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--username",
                SUPERUSER,
                "-D",
            ]);
            initdb.arg(&pgdata);
            let status = spawn_as(&mut initdb, &run_as, &log_path)?
                .wait()
                .context("initdb did not finish")?;
            if !status.success() {
                bail!(
                    "initdb failed ({status}); its output:\n{}",
                    log_tail(&log_path)
                );
            }
        }
        if let Some(pid) = running_server(&pgdata) {
            bail!(
                "another PostgreSQL server (pid {pid}) is already running on {}: is another \
                 claim-registry serving from this data directory?",
                pgdata.display()
            );
        }
        let mut postgres = Command::new(bin.join("postgres"));
        postgres.arg("-D").arg(&pgdata);
        postgres.arg("-k").arg(&socket_dir);
        postgres.args([
            "-p",
            &PORT.to_string(),
            "-c",
            "listen_addresses=",
            "-c",
            "unix_socket_permissions=0700",
        ]);
        let log_offset = fs::metadata(&log_path).map(|m| m.len()).unwrap_or(0);
        let child = spawn_as(&mut postgres, &run_as, &log_path)?;
        let mut server = EmbeddedPostgres {
            child: Some(child),
            socket_dir,
        };
        server.wait_until_ready(&pgdata, &log_path, log_offset)?;
        tracing::info!(socket_dir = %server.socket_dir.display(), "embedded PostgreSQL is ready");
        Ok(server)
    }

    /// Connects to a running embedded server on `data_dir` that another process started, such as
    /// a `claim-registry serve` while `claim-registry keys` runs. `None` when none runs there.
    pub fn attach(data_dir: &Path) -> Option<PgConnectOptions> {
        let data_dir = data_dir.canonicalize().ok()?;
        running_server(&data_dir.join("postgres"))?;
        Some(connect_options(&socket_dir(&data_dir)))
    }

    /// Options to connect to `database` on this server.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        connect_options(&self.socket_dir).database(database)
    }

    fn wait_until_ready(
        &mut self,
        pgdata: &Path,
        log_path: &Path,
        log_offset: u64,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                bail!(
                    "the embedded PostgreSQL server exited at start ({status}); its log:\n{}",
                    log_since(log_path, log_offset)
                );
            }
            if server_status(pgdata).is_some_and(|status| status == "ready") {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                self.stop();
                bail!(
                    "the embedded PostgreSQL server was not ready after {START_TIMEOUT:?}; its log:\n{}",
                    log_since(log_path, log_offset)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server with a fast shutdown (open transactions are rolled back), killing it if
    /// it has not stopped after 30 seconds. Stopping a stopped server does nothing.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = Pid::from_raw(i32::try_from(child.id()).expect("process ids fit in i32"));
        if kill(pid, Signal::SIGINT).is_err() {
            let _ = child.wait();
            return;
        }
        let started = Instant::now();
        while started.elapsed() < STOP_TIMEOUT {
            if let Ok(Some(_)) = child.try_wait() {
                tracing::info!("embedded PostgreSQL stopped");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        tracing::warn!("embedded PostgreSQL did not stop in time; killing it");
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

fn connect_options(socket_dir: &Path) -> PgConnectOptions {
    PgConnectOptions::new()
        .socket(socket_dir)
        .port(PORT)
        .username(SUPERUSER)
}

/// Where the socket goes: `data/run`, or, when that path is too long for a Unix socket, a
/// directory in the system's temporary directory named after the data directory.
fn socket_dir(data_dir: &Path) -> PathBuf {
    let preferred = data_dir.join("run");
    let socket_file = preferred.join(format!(".s.PGSQL.{PORT}"));
    if socket_file.as_os_str().len() <= MAX_SOCKET_PATH {
        return preferred;
    }
    let digest = Sha256::digest(data_dir.as_os_str().as_encoded_bytes());
    let tag: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    std::env::temp_dir().join(format!("claim-registry-{tag}"))
}

/// The directory holding both `initdb` and `postgres`: on PATH, else in the usual install
/// folders, newest version first.
fn find_server_binaries() -> anyhow::Result<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    for root in [
        "/usr/lib/postgresql",
        "/usr/local/lib/postgresql",
        "/opt/postgresql",
    ] {
        let mut versions: Vec<(u32, PathBuf)> = fs::read_dir(root)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
                Some((version, entry.path().join("bin")))
            })
            .collect();
        versions.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
        candidates.extend(versions.into_iter().map(|(_, bin)| bin));
    }
    candidates.push(PathBuf::from("/usr/local/pgsql/bin"));
    candidates
        .into_iter()
        .find(|dir| dir.join("initdb").is_file() && dir.join("postgres").is_file())
        .context(
            "no PostgreSQL server found (initdb and postgres on PATH or in /usr/lib/postgresql/<version>/bin): \
             install PostgreSQL's server package (e.g. apt-get install postgresql) or set DATABASE_URL",
        )
}

/// The `postgres` user to run the server as, when the service runs as root.
fn run_as() -> anyhow::Result<Option<RunAs>> {
    if !geteuid().is_root() {
        return Ok(None);
    }
    let user = User::from_name(SUPERUSER)
        .context("cannot look up the postgres user")?
        .context(
            "running as root, the embedded database needs the `postgres` system user (PostgreSQL's \
             packages create it): create it, run as another user, or set DATABASE_URL",
        )?;
    Ok(Some(RunAs {
        uid: user.uid,
        gid: user.gid,
    }))
}

/// When running as root, the `postgres` user must be able to reach the data directory.
fn check_reachable(data_dir: &Path, run_as: &RunAs) -> anyhow::Result<()> {
    for dir in data_dir.ancestors().skip(1) {
        let meta = fs::metadata(dir)?;
        let searchable_by_others = meta.permissions().mode() & 0o001 != 0;
        if !searchable_by_others
            && std::os::unix::fs::MetadataExt::uid(&meta) != run_as.uid.as_raw()
        {
            bail!(
                "the postgres user cannot reach the data directory {}: {} is not searchable by \
                 other users (chmod o+x it, or choose a --data-dir elsewhere)",
                data_dir.display(),
                dir.display()
            );
        }
    }
    Ok(())
}

/// Spawns a PostgreSQL program with its output appended to the log, as the `postgres` user when
/// there is one, and with the parent-death signal set so it never outlives the service.
fn spawn_as(
    command: &mut Command,
    run_as: &Option<RunAs>,
    log_path: &Path,
) -> anyhow::Result<Child> {
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path)?;
    command
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .current_dir("/")
        .env_remove("PGDATA")
        .env("LC_ALL", "C");
    if let Some(run_as) = run_as {
        command.uid(run_as.uid.as_raw()).gid(run_as.gid.as_raw());
    }
    // SAFETY: prctl is async-signal-safe and touches only the child's own state; it runs after
    // the uid change, which would otherwise clear the setting.
    unsafe {
        command.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(Signal::SIGINT).map_err(std::io::Error::from)
        });
    }
    let program = command.get_program().to_string_lossy().into_owned();
    command
        .spawn()
        .with_context(|| format!("cannot start {program}"))
}

/// The status line of `postmaster.pid` ("starting", "ready", "stopping"), while the server that
/// wrote it is alive.
fn server_status(pgdata: &Path) -> Option<String> {
    let text = fs::read_to_string(pgdata.join("postmaster.pid")).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let pid: i32 = lines.first()?.trim().parse().ok()?;
    kill(Pid::from_raw(pid), None).ok()?;
    lines.get(7).map(|s| s.trim().to_owned())
}

/// The pid of a live server on this cluster, if one runs.
fn running_server(pgdata: &Path) -> Option<i32> {
    let text = fs::read_to_string(pgdata.join("postmaster.pid")).ok()?;
    let pid: i32 = text.lines().next()?.trim().parse().ok()?;
    kill(Pid::from_raw(pid), None).ok().map(|_| pid)
}

fn log_since(log_path: &Path, offset: u64) -> String {
    let mut text = String::new();
    if let Ok(mut file) = File::open(log_path) {
        let _ = file.seek(SeekFrom::Start(offset));
        let _ = file.read_to_string(&mut text);
    }
    text
}

fn log_tail(log_path: &Path) -> String {
    let text = log_since(log_path, 0);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
