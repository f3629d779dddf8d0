//! A private PostgreSQL server, so `jobcenter` runs with no database configured.
//!
//! Policy:
//! - It runs the machine's own PostgreSQL server binaries (`initdb`, `pg_ctl`, `postgres`), found
//!   in `JOBCENTER_PG_BINDIR` (if set, nothing else is tried), else via `initdb` on `PATH`, else
//!   `pg_config --bindir`, else the newest `/usr/lib/postgresql/*/bin`. Nothing is downloaded.
//! - The cluster lives in a data directory of its own (mode 0700), initialised once with trust
//!   authentication for the `postgres` superuser; the server listens on 127.0.0.1 only and puts
//!   its Unix socket in the data directory.
//! - A server already running on the data directory is reused as it is. Only the handle that
//!   started the server stops it, and only through [`EmbeddedPostgres::stop`]: dropping a handle
//!   leaves the server running, and the next start reuses it.
//! - PostgreSQL refuses to run as root, so as root the data directory is given to the `postgres`
//!   OS user and every PostgreSQL command runs as that user.
//! - initdb and start are serialised across processes by an exclusive lock on `<data_dir>.lock`.
//! - This is for development and tests; production sets `JOBCENTER__DATABASE__URL`.

use std::ffi::OsString;
use std::fs::{File, Permissions};
use std::io::{Error as IoError, ErrorKind};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt, lchown};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::unistd::{Gid, Uid, User, geteuid};
use tokio::process::Command;

const BINARIES: [&str; 3] = ["initdb", "pg_ctl", "postgres"];
const FAST_UNSAFE: &str = " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";

/// How to run the embedded server.
#[derive(Debug, Clone)]
pub struct EmbeddedOptions {
    /// Data directory of the cluster, e.g. `./var/postgres`; created if missing.
    pub data_dir: PathBuf,
    /// TCP port on 127.0.0.1; 0 picks a free one. A reused server keeps its own port.
    pub port: u16,
    /// For tests only: `fsync=off`, `synchronous_commit=off`, `full_page_writes=off`.
    pub fast_unsafe: bool,
}

/// A running embedded server, started or reused by [`EmbeddedPostgres::start`].
#[derive(Debug)]
pub struct EmbeddedPostgres {
    bindir: PathBuf,
    data_dir: PathBuf,
    port: u16,
    run_as: Option<(Uid, Gid)>,
    owned: bool,
}

/// Why the embedded server could not be started or stopped.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// No directory with `initdb`, `pg_ctl` and `postgres` was found; says where it looked.
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: {0}. Install them \
         (Debian/Ubuntu: `apt-get install postgresql`) or set JOBCENTER_PG_BINDIR to their \
         directory, or use an existing database with JOBCENTER__DATABASE__URL=postgres://..."
    )]
    BinariesNotFound(String),
    /// Running as root with no `postgres` OS user to run the server as.
    #[error(
        "running as root, which PostgreSQL refuses, and there is no `postgres` OS user to run it \
         as: create one (`useradd --system postgres`) or use an existing database with \
         JOBCENTER__DATABASE__URL=postgres://..."
    )]
    NoPostgresUser,
    /// This parent of the data directory cannot be entered by the `postgres` OS user.
    #[error(
        "the `postgres` OS user cannot enter {0} (a parent of the data directory): choose a \
         data directory elsewhere, or run `chmod o+x` on that directory"
    )]
    NotTraversable(PathBuf),
    /// A file system operation or a process spawn failed: what was being done, and why.
    #[error("could not {0}: {1}")]
    Io(String, #[source] IoError),
    /// A PostgreSQL command failed: the command, and its exit status and output.
    #[error("{0} failed: {1}")]
    Command(String, String),
    /// `pg_ctl start` failed: its failure, and the last lines of `server.log`, which say why.
    #[error("PostgreSQL did not start: {0}\nlast lines of server.log:\n{1}")]
    StartFailed(Box<EmbeddedError>, String),
}

impl EmbeddedPostgres {
    /// Start (or reuse) the server; returns once it accepts connections.
    pub async fn start(opts: &EmbeddedOptions) -> Result<EmbeddedPostgres, EmbeddedError> {
        let env = std::env::var_os::<&str>;
        let versions_root = "/usr/lib/postgresql".as_ref();
        let bindir = find_bindir(env("JOBCENTER_PG_BINDIR"), env("PATH"), versions_root).await?;
        let run_as = match geteuid().is_root() {
            true => Some(postgres_user().ok_or(EmbeddedError::NoPostgresUser)?),
            false => None,
        };
        std::fs::create_dir_all(&opts.data_dir).map_err(io_err("create", &opts.data_dir))?;
        let resolved = opts.data_dir.canonicalize();
        let data_dir = resolved.map_err(io_err("resolve", &opts.data_dir))?;
        let _lock = lock(&data_dir).await?;
        let fresh = !data_dir.join("PG_VERSION").exists();
        prepare_dir(&data_dir, run_as, fresh)?;
        let mut pg = EmbeddedPostgres {
            bindir,
            data_dir,
            port: opts.port,
            run_as,
            owned: false,
        };
        let dir = pg.data_dir.display().to_string();
        if pg.data_dir.join("postmaster.pid").exists() && pg.pg_ctl(&["status"]).await.is_ok() {
            let port = wait_ready(&pg.data_dir).await?;
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                tracing::info!("reusing the PostgreSQL running in {dir} on port {port}");
                return Ok(EmbeddedPostgres { port, ..pg });
            }
        }
        if fresh {
            tracing::info!("initdb: new PostgreSQL cluster in {dir}");
            let mut cmd = pg.command("initdb");
            cmd.arg("-D").arg(&pg.data_dir);
            let args = "-U postgres -A trust -E UTF8 --locale=C --no-instructions".split(' ');
            run(cmd.args(args)).await?;
        }
        if pg.port == 0 {
            let bound = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr());
            let bound = bound.map_err(io_err("pick a free port on", "127.0.0.1".as_ref()));
            pg.port = bound?.port();
        }
        let socket_dir = format!("'{}'", dir.replace('\'', r"'\''"));
        let port = pg.port;
        let mut server = format!("-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1");
        server.push_str(if opts.fast_unsafe { FAST_UNSAFE } else { "" });
        let log = pg.data_dir.join("server.log");
        let log_arg = log.to_string_lossy();
        let args = ["-l", &log_arg, "-w", "-t", "60", "-o", &server, "start"];
        if let Err(failure) = pg.pg_ctl(&args).await {
            let text = std::fs::read_to_string(&log);
            let text = text.unwrap_or_else(|e| format!("(unreadable: {e})"));
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(20)..].join("\n");
            return Err(EmbeddedError::StartFailed(Box::new(failure), tail));
        }
        tracing::info!("started PostgreSQL in {dir} on port {port}");
        Ok(EmbeddedPostgres { owned: true, ..pg })
    }

    /// The URL of `database` on this server: `postgres://postgres@127.0.0.1:{port}/{db}`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// The TCP port the server listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stop the server if this handle started it (pg_ctl stop -m fast); a reused server is left running.
    pub async fn stop(self) -> Result<(), EmbeddedError> {
        if self.owned {
            self.pg_ctl(&["-m", "fast", "-w", "stop"]).await?;
            tracing::info!("stopped the PostgreSQL on port {}", self.port);
        }
        Ok(())
    }

    /// A command for one of the server binaries (`pg_basebackup`, say), run as the
    /// `postgres` user when we are root, in the data directory.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bindir.join(program));
        cmd.current_dir(&self.data_dir);
        if let Some((uid, gid)) = self.run_as {
            cmd.uid(uid.as_raw()).gid(gid.as_raw());
        }
        cmd
    }

    async fn pg_ctl(&self, args: &[&str]) -> Result<(), EmbeddedError> {
        let mut cmd = self.command("pg_ctl");
        run(cmd.arg("-D").arg(&self.data_dir).args(args)).await
    }
}

/// Runs a command to completion; its exit status and output are the error if it fails.
async fn run(cmd: &mut Command) -> Result<(), EmbeddedError> {
    let std_cmd = cmd.as_std();
    let words = std::iter::once(std_cmd.get_program()).chain(std_cmd.get_args());
    let shown = words
        .map(|w| w.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let out = cmd.output().await;
    let out = out.map_err(|e| EmbeddedError::Io(format!("run {shown}"), e))?;
    if out.status.success() {
        return Ok(());
    }
    let text = |b: &[u8]| String::from_utf8_lossy(b).trim().to_string();
    let output = format!("{} {}", text(&out.stderr), text(&out.stdout));
    let detail = format!("{}: {}", out.status, output.trim());
    Err(EmbeddedError::Command(shown, detail))
}

/// The directory holding the server binaries: `env_bindir` if given (and nothing else), else
/// `initdb` on `path`, else `pg_config --bindir`, else the newest `<versions_root>/*/bin`.
async fn find_bindir(
    env_bindir: Option<OsString>,
    path: Option<OsString>,
    versions_root: &Path,
) -> Result<PathBuf, EmbeddedError> {
    let complete = |dir: &Path| BINARIES.iter().all(|b| dir.join(b).is_file());
    if let Some(dir) = env_bindir.filter(|d| !d.is_empty()).map(PathBuf::from) {
        let missing = format!("JOBCENTER_PG_BINDIR={} lacks them", dir.display());
        let found = complete(&dir).then_some(dir);
        return found.ok_or(EmbeddedError::BinariesNotFound(missing));
    }
    let on_path = |name: &str| {
        let dirs = path.iter().flat_map(std::env::split_paths);
        dirs.map(|d| d.join(name)).find(|p| p.is_file())
    };
    let mut candidates = Vec::new();
    if let Some(initdb) = on_path("initdb") {
        let initdb = initdb.canonicalize().unwrap_or(initdb);
        candidates.extend(initdb.parent().map(Path::to_path_buf));
    }
    if let Some(pg_config) = on_path("pg_config")
        && let Ok(out) = Command::new(pg_config).arg("--bindir").output().await
        && out.status.success()
    {
        candidates.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    }
    let mut versions: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir(versions_root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let key = name.split('.').map(|n| n.parse().ok());
            let key = key.collect::<Option<_>>()?;
            Some((key, entry.path().join("bin")))
        })
        .collect();
    versions.sort_by(|a, b| b.0.cmp(&a.0));
    candidates.extend(versions.into_iter().map(|(_, dir)| dir));
    let root = versions_root.display();
    let searched = format!("searched initdb on PATH, pg_config --bindir and {root}/*/bin");
    let found = candidates.into_iter().find(|d| complete(d));
    found.ok_or(EmbeddedError::BinariesNotFound(searched))
}

/// Takes the exclusive lock on `<data_dir>.lock` that serialises initdb and start.
/// The lock is released when the returned file is dropped.
async fn lock(data_dir: &Path) -> Result<File, EmbeddedError> {
    let mut path = data_dir.as_os_str().to_owned();
    path.push(".lock");
    let path = PathBuf::from(path);
    let file = File::open(&path).or_else(|_| File::create(&path));
    let file = file.map_err(io_err("open", &path))?;
    let locking = move || file.lock().map(|()| file);
    let locked = tokio::task::spawn_blocking(locking).await;
    let locked = locked.map_err(IoError::other);
    locked.and_then(|r| r).map_err(io_err("lock", &path))
}

/// Makes the data directory 0700 and, as root, owned and reachable by the `postgres` user.
fn prepare_dir(dir: &Path, run_as: Option<(Uid, Gid)>, fresh: bool) -> Result<(), EmbeddedError> {
    let meta = std::fs::metadata(dir).map_err(io_err("inspect", dir))?;
    if let Some((uid, gid)) = run_as {
        for parent in dir.ancestors().skip(1) {
            let m = std::fs::metadata(parent).map_err(io_err("inspect", parent))?;
            let execute = match (m.uid() == uid.as_raw(), m.gid() == gid.as_raw()) {
                (true, _) => 0o100,
                (false, true) => 0o010,
                (false, false) => 0o001,
            };
            if m.mode() & execute == 0 {
                return Err(EmbeddedError::NotTraversable(parent.to_path_buf()));
            }
        }
        if fresh || meta.uid() != uid.as_raw() {
            chown_tree(dir, uid, gid)?;
        }
    }
    if meta.mode() & 0o777 != 0o700 {
        let mode = Permissions::from_mode(0o700);
        std::fs::set_permissions(dir, mode).map_err(io_err("chmod 0700", dir))?;
    }
    Ok(())
}

fn chown_tree(path: &Path, uid: Uid, gid: Gid) -> Result<(), EmbeddedError> {
    lchown(path, Some(uid.as_raw()), Some(gid.as_raw())).map_err(io_err("chown", path))?;
    let meta = std::fs::symlink_metadata(path).map_err(io_err("inspect", path))?;
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).map_err(io_err("list", path))? {
            chown_tree(&entry.map_err(io_err("list", path))?.path(), uid, gid)?;
        }
    }
    Ok(())
}

/// Waits until `postmaster.pid` of the running server says it is ready; returns its port.
async fn wait_ready(dir: &Path) -> Result<u16, EmbeddedError> {
    let pid_file = dir.join("postmaster.pid");
    for _ in 0..600 {
        let text = tokio::fs::read_to_string(&pid_file).await;
        let text = text.map_err(io_err("read", &pid_file))?;
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        if matches!(lines.get(7), Some(&("ready" | "standby"))) {
            let bad_port = |_| IoError::from(ErrorKind::InvalidData);
            let port = lines[3].parse().map_err(bad_port);
            return port.map_err(io_err("read the port (line 4) of", &pid_file));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let timeout = IoError::new(ErrorKind::TimedOut, "it is still not ready after 60 s");
    Err(io_err("use the server running in", dir)(timeout))
}

fn postgres_user() -> Option<(Uid, Gid)> {
    let user = User::from_name("postgres").ok().flatten()?;
    Some((user.uid, user.gid))
}

fn io_err(what: &str, path: &Path) -> impl FnOnce(IoError) -> EmbeddedError {
    let what = format!("{what} {}", path.display());
    move |source| EmbeddedError::Io(what, source)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("embedded-pg-{name}-{}", std::process::id()))
    }

    #[tokio::test]
    async fn empty_bindir_env_is_binaries_not_found() {
        let empty = scratch("empty-bindir");
        std::fs::create_dir_all(&empty).unwrap();
        let path = std::env::var_os("PATH");
        let found = find_bindir(
            Some(empty.clone().into()),
            path,
            "/usr/lib/postgresql".as_ref(),
        );
        let err = found.await.unwrap_err();
        std::fs::remove_dir_all(&empty).unwrap();
        assert!(matches!(err, EmbeddedError::BinariesNotFound(_)), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("apt-get install postgresql"), "{message}");
        assert!(message.contains("JOBCENTER_PG_BINDIR="), "{message}");
        assert!(
            message.contains("JOBCENTER__DATABASE__URL=postgres://"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn newest_versioned_bindir_wins_numerically() {
        let root = scratch("versions");
        for version in ["9.6", "16", "15", "notaversion"] {
            let bin = root.join(version).join("bin");
            std::fs::create_dir_all(&bin).unwrap();
            for binary in BINARIES {
                std::fs::write(bin.join(binary), "").unwrap();
            }
        }
        let found = find_bindir(None, None, &root).await;
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(found.unwrap(), root.join("16").join("bin"));
    }
}
