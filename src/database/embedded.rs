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
//!
//! The server is a child process, owned by a supervisor thread of its own:
//!
//! - It runs in a process group of its own, so that the SIGINT a terminal's Ctrl-C sends to the
//!   foreground process group reaches the service alone: the service lets its calls in flight
//!   finish, then stops the server.
//! - The kernel stops it if the service dies without stopping it (Linux's parent-death signal).
//!   That signal follows the *thread* that started the server, which is why the supervisor
//!   thread starts it, and starts it again: the thread lives exactly as long as the server should.
//! - If it dies, the supervisor reaps it (no zombie), logs its exit status and the end of its
//!   log, and starts it again after a backoff of 0.5 s doubling up to 30 s. Calls fail with
//!   UNAVAILABLE meanwhile; the pool reconnects by itself once the server is back.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{PermissionsExt, chown};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use nix::sys::signal::{Signal, kill, killpg};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
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
/// How often the supervisor checks whether the server is still alive: how long calls fail at
/// least after it died, besides the restart itself.
const SUPERVISE_INTERVAL: Duration = Duration::from_millis(100);
/// The wait before the first restart of a server that died; it doubles after each restart that
/// fails or dies again soon, so a server that cannot run does not spin.
const FIRST_RESTART_DELAY: Duration = Duration::from_millis(500);
/// The longest wait between restarts. A server that ran this long before it died counts as
/// healthy: its restart waits [`FIRST_RESTART_DELAY`] again.
const MAX_RESTART_DELAY: Duration = Duration::from_secs(30);

/// A running embedded PostgreSQL server and the thread that supervises it.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    /// The directory holding the server's socket.
    socket_dir: PathBuf,
    /// The server's process id; 0 while none runs (between a death and its restart, and once
    /// stopped). Written by the supervisor, read by [`EmbeddedPostgres::pid`].
    pid: Arc<AtomicU32>,
    /// Dropping it tells the supervisor to stop the server and finish; `None` once stopped.
    stop: Option<Sender<()>>,
    /// The supervisor thread, which started the server and owns its process.
    supervisor: Option<JoinHandle<()>>,
}

/// The OS user the server runs as, when the service runs as root.
#[derive(Debug, Clone, Copy)]
struct RunAs {
    uid: nix::unistd::Uid,
    gid: nix::unistd::Gid,
}

/// What it takes to start the server, the first time and every time after.
#[derive(Debug)]
struct Cluster {
    /// The directory holding `postgres` and `initdb`.
    bin: PathBuf,
    /// The user to run as, when the service runs as root.
    run_as: Option<RunAs>,
    /// The cluster's directory (PGDATA).
    pgdata: PathBuf,
    /// Where the server puts its socket.
    socket_dir: PathBuf,
    /// The server's own log, appended to.
    log_path: PathBuf,
}

impl EmbeddedPostgres {
    /// Starts a server on the cluster in `data_dir/postgres`, creating the cluster first if the
    /// directory is new. Blocks until the server accepts connections. From then on, a supervisor
    /// thread restarts the server whenever it dies, until [`EmbeddedPostgres::stop`].
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
        let cluster = Cluster {
            bin,
            run_as,
            pgdata,
            socket_dir: socket_dir.clone(),
            log_path,
        };
        let pid = Arc::new(AtomicU32::new(0));
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel();
        let supervisor = std::thread::Builder::new()
            .name("embedded-postgres".to_owned())
            .spawn({
                let pid = Arc::clone(&pid);
                move || match cluster.launch(&stop_rx) {
                    Ok(Some(server)) => {
                        pid.store(server.child.id(), Ordering::SeqCst);
                        let _ = ready_tx.send(Ok(()));
                        cluster.supervise(server, &pid, &stop_rx);
                    }
                    // the sender is held until this reports, so no stop can come first
                    Ok(None) => {}
                    Err(error) => {
                        let _ = ready_tx.send(Err(error));
                    }
                }
            })
            .context("cannot start the embedded PostgreSQL supervisor thread")?;
        let mut server = EmbeddedPostgres {
            socket_dir,
            pid,
            stop: Some(stop_tx),
            supervisor: Some(supervisor),
        };
        match ready_rx.recv() {
            Ok(Ok(())) => {
                tracing::info!(socket_dir = %server.socket_dir.display(), "embedded PostgreSQL is ready");
                Ok(server)
            }
            Ok(Err(error)) => {
                server.stop();
                Err(error)
            }
            Err(_) => {
                server.stop();
                bail!("the embedded PostgreSQL supervisor thread failed at start")
            }
        }
    }

    /// Connects to a running embedded server on `data_dir` that another process started, such as
    /// a `claim-registry serve` while `claim-registry keys` runs. `None` when none runs there.
    pub fn attach(data_dir: &Path) -> Option<PgConnectOptions> {
        let data_dir = data_dir.canonicalize().ok()?;
        running_server(&data_dir.join("postgres"))?;
        Some(connect_options(&socket_dir(&data_dir)))
    }

    /// The server's process id while it runs, `None` between a death and its restart: for
    /// checks of how it runs, and tests that kill it.
    pub fn pid(&self) -> Option<u32> {
        match self.pid.load(Ordering::SeqCst) {
            0 => None,
            pid => Some(pid),
        }
    }

    /// Options to connect to `database` on this server.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        connect_options(&self.socket_dir).database(database)
    }

    /// Stops the server with a fast shutdown (open transactions are rolled back), killing it if
    /// it has not stopped after 30 seconds, and ends its supervision. Stopping a stopped server
    /// does nothing.
    pub fn stop(&mut self) {
        // the supervisor sees the channel close, stops the server and returns
        drop(self.stop.take());
        if let Some(supervisor) = self.supervisor.take()
            && supervisor.join().is_err()
        {
            tracing::error!("the embedded postgresql supervisor panicked");
        }
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Cluster {
    /// Starts the server and waits until it accepts connections: `Ok(None)` when told to stop
    /// meanwhile (the server is then stopped again).
    fn launch(&self, stop: &Receiver<()>) -> anyhow::Result<Option<Launched>> {
        if let Some(pid) = running_server(&self.pgdata) {
            bail!(
                "another PostgreSQL server (pid {pid}) is running on {}",
                self.pgdata.display()
            );
        }
        let mut postgres = Command::new(self.bin.join("postgres"));
        postgres.arg("-D").arg(&self.pgdata);
        postgres.arg("-k").arg(&self.socket_dir);
        postgres.args([
            "-p",
            &PORT.to_string(),
            "-c",
            "listen_addresses=",
            "-c",
            "unix_socket_permissions=0700",
        ]);
        let log_offset = fs::metadata(&self.log_path).map_or(0, |m| m.len());
        let mut child = spawn_as(&mut postgres, &self.run_as, &self.log_path)?;
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().context("cannot watch the server")? {
                bail!(
                    "the embedded PostgreSQL server exited at start ({status}); its log:\n{}",
                    log_since(&self.log_path, log_offset)
                );
            }
            if server_status(&self.pgdata, child.id()).is_some_and(|status| status == "ready") {
                return Ok(Some(Launched { child, log_offset }));
            }
            if matches!(stop.try_recv(), Ok(()) | Err(TryRecvError::Disconnected)) {
                shut_down(child);
                return Ok(None);
            }
            if started.elapsed() > START_TIMEOUT {
                shut_down(child);
                bail!(
                    "the embedded PostgreSQL server was not ready after {START_TIMEOUT:?}; its log:\n{}",
                    log_since(&self.log_path, log_offset)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Watches the running server until told to stop, restarting it whenever it dies; runs on
    /// the supervisor thread, which must start every server (see the module documentation).
    fn supervise(&self, mut server: Launched, pid: &AtomicU32, stop: &Receiver<()>) {
        let mut delay = FIRST_RESTART_DELAY;
        let mut up_since = Instant::now();
        loop {
            if stop.recv_timeout(SUPERVISE_INTERVAL) != Err(RecvTimeoutError::Timeout) {
                pid.store(0, Ordering::SeqCst);
                shut_down(server.child);
                return;
            }
            let dead = server.child.id();
            match has_exited(dead) {
                Ok(false) => continue,
                Ok(true) => {}
                Err(error) => {
                    tracing::error!(%error, "cannot watch the embedded postgresql: no longer restarting it");
                    let _ = stop.recv();
                    shut_down(server.child);
                    return;
                }
            }
            pid.store(0, Ordering::SeqCst);
            // Its backends notice the death by themselves, but a busy one only at its next check;
            // they are in the dead server's process group, so tell them all to quit now. The new
            // server refuses to start while any of them still holds the shared memory. Until it
            // is reaped just below, the dead server keeps its process (and group) id from reuse.
            let _ = killpg(Pid::from_raw(pid_i32(dead)), Signal::SIGQUIT);
            // reaps it: it never lingers as a zombie
            let status = server.child.wait().map_or_else(
                |error| format!("unknown: {error}"),
                |status| status.to_string(),
            );
            tracing::error!(
                pid = dead,
                status,
                log_tail = %last_lines(&log_since(&self.log_path, server.log_offset)),
                "the embedded postgresql exited: restarting it"
            );
            remove_stale_lock_file(&self.pgdata, dead);
            if up_since.elapsed() >= MAX_RESTART_DELAY {
                delay = FIRST_RESTART_DELAY;
            }
            loop {
                if stop.recv_timeout(delay) != Err(RecvTimeoutError::Timeout) {
                    return;
                }
                match self.launch(stop) {
                    Ok(Some(restarted)) => {
                        server = restarted;
                        pid.store(server.child.id(), Ordering::SeqCst);
                        up_since = Instant::now();
                        crate::metrics::embedded_postgres_restarted();
                        tracing::info!(pid = server.child.id(), "embedded postgresql restarted");
                        delay = (delay * 2).min(MAX_RESTART_DELAY);
                        break;
                    }
                    Ok(None) => return,
                    Err(error) => {
                        delay = (delay * 2).min(MAX_RESTART_DELAY);
                        tracing::warn!(
                            error = format!("{error:#}"),
                            retry_in_ms = delay.as_millis() as u64,
                            "cannot restart the embedded postgresql: trying again"
                        );
                    }
                }
            }
        }
    }
}

/// A server process that started, and where its lines begin in the log.
#[derive(Debug)]
struct Launched {
    /// The server process.
    child: Child,
    /// The log's length when the server started: what follows is this server's.
    log_offset: u64,
}

/// Stops a server with a fast shutdown (open transactions are rolled back), killing it if it has
/// not stopped after [`STOP_TIMEOUT`]; reaps it either way.
fn shut_down(mut child: Child) {
    if kill(Pid::from_raw(pid_i32(child.id())), Signal::SIGINT).is_err() {
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

/// Whether the child `pid` has exited, leaving it unreaped (a zombie) for the caller to reap.
fn has_exited(pid: u32) -> nix::Result<bool> {
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    let status = waitid(Id::Pid(Pid::from_raw(pid_i32(pid))), flags)?;
    Ok(status != WaitStatus::StillAlive)
}

/// A process id as the kernel's signed type.
fn pid_i32(pid: u32) -> i32 {
    i32::try_from(pid).expect("process ids fit in i32")
}

/// Removes `postmaster.pid` when it names the server that just died, which this process reaped:
/// its process id may be reused by any process from now on, and PostgreSQL would then take the
/// file for a live server's and refuse to start. The shared memory interlock still keeps a new
/// server from starting while the dead one's backends remain.
fn remove_stale_lock_file(pgdata: &Path, dead: u32) {
    let path = pgdata.join("postmaster.pid");
    let names_dead = fs::read_to_string(&path).is_ok_and(|text| {
        text.lines()
            .next()
            .is_some_and(|line| line.trim() == dead.to_string())
    });
    if names_dead && let Err(error) = fs::remove_file(&path) {
        tracing::warn!(%error, path = %path.display(), "cannot remove the dead server's lock file");
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
/// there is one, in a process group of its own so that a terminal's Ctrl-C does not reach it,
/// and with the parent-death signal set so it never outlives the service (or rather the thread
/// that spawns it).
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
    // a group of its own, led by the program: the terminal signals only its foreground group
    command.process_group(0);
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

/// The status line of `postmaster.pid` ("starting", "ready", "stopping") when the server with
/// process id `pid` wrote it: a file left by a server that died says "ready" too.
fn server_status(pgdata: &Path, pid: u32) -> Option<String> {
    let text = fs::read_to_string(pgdata.join("postmaster.pid")).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let written_by: u32 = lines.first()?.trim().parse().ok()?;
    (written_by == pid).then(|| lines.get(7).map(|s| s.trim().to_owned()))?
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
    last_lines(&log_since(log_path, 0))
}

/// The last 20 lines of a log text: what tells why a program failed, without the whole history.
fn last_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
