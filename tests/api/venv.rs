//! Python virtualenvs for tests that drive Python tools: made on first use under
//! `target/tmp/<name>` with `python3 -m venv` and pip (one pinned package), and kept for
//! later runs; an exclusive lock on `target/tmp/<name>.lock` keeps two test processes from
//! building one at once.

use std::path::{Path, PathBuf};
use std::process::Output;

/// A pinned PyPI package and the module that proves it is installed.
pub struct Package {
    /// The venv's directory name under `target/tmp`.
    pub venv: &'static str,
    /// The distribution's name on PyPI.
    pub name: &'static str,
    /// Extras to install with it (`"[server]"`), or empty.
    pub extras: &'static str,
    /// The pinned version; changing it rebuilds the venv.
    pub version: &'static str,
    /// A module to import.
    pub module: &'static str,
}

/// The venv's python, with `package` installed; builds the venv when missing or stale.
pub fn python_with(package: &Package) -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let venv = tmp.join(package.venv);
    let python = venv.join("bin").join("python");
    std::fs::create_dir_all(tmp).expect("create the target tmp directory");
    let lock = std::fs::File::create(tmp.join(format!("{}.lock", package.venv)))
        .expect("open the venv lock");
    lock.lock().expect("lock the venv");
    if !installed(&python, package) {
        run(
            std::process::Command::new("python3")
                .args(["-m", "venv", "--clear"])
                .arg(&venv),
            "python3 -m venv (Python 3 with the venv module is needed)",
        );
        run(
            std::process::Command::new(&python).args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--timeout",
                "60",
                &format!("{}{}=={}", package.name, package.extras, package.version),
            ]),
            &format!("pip install {}", package.name),
        );
        assert!(
            installed(&python, package),
            "{} {} still missing",
            package.name,
            package.version
        );
    }
    python
}

/// Whether `python` imports the package at the pinned version.
fn installed(python: &Path, package: &Package) -> bool {
    let check = format!(
        "import importlib.metadata as m, {}; assert m.version('{}') == '{}'",
        package.module, package.name, package.version
    );
    std::process::Command::new(python)
        .args(["-c", &check])
        .output()
        .is_ok_and(|out| out.status.success())
}

/// Runs `command`, failing the test with its output when it fails.
pub fn run(command: &mut std::process::Command, what: &str) {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}",
        output.status,
        printed(&output)
    );
}

/// A process's stdout and stderr, for a failure message.
pub fn printed(output: &Output) -> String {
    format!(
        "--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
