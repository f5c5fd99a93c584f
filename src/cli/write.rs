//! Writing outputs where the user pointed, and only there.
//!
//! - `--output` absent or `-`: stdout.
//! - `--output` naming something that is not a regular file (`/dev/stdout`, `/dev/null`, a FIFO,
//!   a terminal, anything under `/dev/` or `/proc/`): opened and written directly, never replaced.
//! - a regular file, or a path that does not exist yet: rendered in memory, written to a
//!   temporary file beside it, renamed into place, so a failed run never leaves a half-written
//!   file. A replaced file keeps its mode; a new one gets the usual mode (`0666` minus umask).
//!   A symbolic link to a regular file is followed: the link stays, its target is replaced.
//! - `--output` naming an input of the run (the snapshot, the config) is refused.
//!
//! [`join_inside`] is the one way a generated relative path becomes a path under an output
//! directory.

use super::InputError;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

/// Renders into memory with `render`, then writes the bytes to `path` (see the module doc), or
/// to stdout when `path` is `None` or `-`.
pub fn write_atomically(
    path: Option<&Path>,
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), InputError> {
    let mut buffer = Vec::new();
    render(&mut buffer).map_err(|e| InputError(format!("cannot render output: {e}")))?;
    match path {
        None => write_stdout(&buffer),
        Some(p) if p.as_os_str() == "-" || is_own_stdout(p) => write_stdout(&buffer),
        Some(p) if is_direct(p) => write_direct(p, &buffer),
        Some(p) => {
            // Follow a symbolic link to a regular file: replace the target, keep the link.
            let target = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
            replace_file(&target, &buffer).map_err(|e| InputError(format!("cannot write `{}`: {e}", p.display())))
        }
    }
}

/// Refuses an `--output` that names one of the run's inputs (compared as canonical paths).
pub fn refuse_input(output: Option<&Path>, inputs: &[(&str, &Path)]) -> Result<(), InputError> {
    let Some(out) = output.filter(|p| p.as_os_str() != "-") else {
        return Ok(());
    };
    let Ok(out_canon) = std::fs::canonicalize(out) else {
        return Ok(()); // does not exist yet, so it is no input
    };
    for (what, input) in inputs {
        if std::fs::canonicalize(input).is_ok_and(|c| c == out_canon) {
            return Err(InputError(format!(
                "`--output {}` is the {what} this run reads; choose another file",
                out.display()
            )));
        }
    }
    Ok(())
}

/// `/dev/stdout` and its aliases: written through the process's own stdout, so a shell's
/// `>> file` keeps appending (reopening the path would write from offset 0).
fn is_own_stdout(p: &Path) -> bool {
    ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"]
        .iter()
        .any(|s| p == Path::new(s))
}

/// Whether `p` is written to directly rather than replaced: an existing non-regular file, or
/// anything under `/dev/` or `/proc/` (where `/dev/stdout` may resolve to a regular file the
/// shell opened, which must not be swapped under it).
fn is_direct(p: &Path) -> bool {
    let special = |q: &Path| q.starts_with("/dev") || q.starts_with("/proc");
    if special(p) {
        return true;
    }
    match std::fs::metadata(p) {
        Ok(m) => !m.is_file() || std::fs::canonicalize(p).is_ok_and(|c| special(&c)),
        Err(_) => false,
    }
}

fn write_direct(p: &Path, bytes: &[u8]) -> Result<(), InputError> {
    let shown = p.display();
    let mut file = OpenOptions::new()
        .write(true)
        .open(p)
        .map_err(|e| InputError(format!("cannot write `{shown}`: {e}")))?;
    match file.write_all(bytes).and_then(|()| file.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(InputError(format!("cannot write `{shown}`: {e}"))),
    }
}

/// Writes `bytes` to a fresh temporary file beside `target` and renames it over `target`. The
/// temporary file is created with mode `0666` minus the umask; when `target` exists its mode is
/// copied first.
pub fn replace_file(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let (tmp, mut file) = create_temp_file(dir)?;
    let result = (|| {
        file.write_all(bytes)?;
        file.sync_all()?;
        if let Ok(existing) = std::fs::metadata(target) {
            file.set_permissions(existing.permissions())?;
        }
        drop(file);
        std::fs::rename(&tmp, target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A new, uniquely named file `.topoguard-<pid>-<n>.tmp` in `dir`, created with the default mode.
fn create_temp_file(dir: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o666);
    let mut last = None;
    for n in 0..100u32 {
        let path = dir.join(unique_name(".topoguard-", n, ".tmp"));
        match options.open(&path) {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary name")))
}

/// A new, uniquely named directory `<prefix><pid>-<n>` in `dir`, created with the default mode
/// (`0777` minus the umask, unlike `tempfile`'s `0700`).
pub fn create_temp_dir(dir: &Path, prefix: &str) -> std::io::Result<PathBuf> {
    let mut last = None;
    for n in 0..100u32 {
        let path = dir.join(unique_name(prefix, n, ""));
        match std::fs::create_dir(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary name")))
}

fn unique_name(prefix: &str, n: u32, suffix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{prefix}{}-{nanos}-{n}{suffix}", std::process::id())
}

fn write_stdout(bytes: &[u8]) -> Result<(), InputError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`| head`) is the reader's choice, not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(InputError(format!("cannot write to stdout: {e}"))),
    }
}

/// Why a generated relative path cannot be placed under an output directory.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refusing to write `{rel}` under `{root}`: {problem}")]
pub struct PathEscape {
    pub rel: String,
    pub root: String,
    pub problem: &'static str,
}

/// Joins the generated relative path `rel` (components separated by `/`) under `root` and
/// verifies the result stays inside it: `rel` is not empty or absolute, has no `.`/`..`/empty
/// component, no backslash or control character, and no component that already exists under
/// `root` is a symbolic link (which could lead out of it).
pub fn join_inside(root: &Path, rel: &str) -> Result<PathBuf, PathEscape> {
    let fail = |problem| PathEscape {
        rel: rel.escape_debug().to_string(),
        root: root.display().to_string(),
        problem,
    };
    if rel.is_empty() {
        return Err(fail("the path is empty"));
    }
    if rel.starts_with('/') || Path::new(rel).is_absolute() {
        return Err(fail("the path is absolute"));
    }
    if rel.chars().any(|c| c == '\\' || c.is_control()) {
        return Err(fail("the path has a backslash or a control character"));
    }
    let mut path = root.to_path_buf();
    for part in rel.split('/') {
        if part.is_empty() || part == "." || part == ".." {
            return Err(fail("the path has an empty, `.` or `..` component"));
        }
        path.push(part);
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(fail("a component is a symbolic link"));
        }
    }
    // After joining: every component is a plain name below `root`.
    let below = path
        .strip_prefix(root)
        .map_err(|_| fail("the path leaves the directory"))?;
    if !below.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(fail("the path leaves the directory"));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_inside_keeps_plain_relative_paths() {
        let root = Path::new("/tmp/out");
        assert_eq!(
            join_inside(root, "app/111111111111/role.json").unwrap(),
            Path::new("/tmp/out/app/111111111111/role.json")
        );
        // a near miss: dots inside a name are fine
        assert!(join_inside(root, "a..b/.x/c.").is_ok());
    }

    #[test]
    fn join_inside_refuses_every_escape() {
        let root = Path::new("/tmp/out");
        for rel in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/./b",
            "a//b",
            "..",
            ".",
            "a\\..\\b",
            "a\u{0}b",
            "a\nb",
            "a/",
        ] {
            assert!(join_inside(root, rel).is_err(), "{rel:?}");
        }
    }

    #[test]
    fn join_inside_refuses_an_existing_symlink() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/tmp", dir.path().join("link")).unwrap();
        let e = join_inside(dir.path(), "link/x").unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        std::fs::create_dir(dir.path().join("real")).unwrap();
        assert!(join_inside(dir.path(), "real/x").is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn replaced_file_keeps_its_mode_and_new_file_is_not_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let kept = dir.path().join("kept");
        std::fs::write(&kept, "old").unwrap();
        std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o640)).unwrap();
        replace_file(&kept, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&kept).unwrap(), "new");
        assert_eq!(std::fs::metadata(&kept).unwrap().permissions().mode() & 0o777, 0o640);
        // a new file gets what a plain `create` gets under the same umask
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "x").unwrap();
        let fresh = dir.path().join("fresh");
        replace_file(&fresh, b"x").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&fresh), mode(&plain));
        // no temporary file left behind
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
    }

    #[test]
    fn output_naming_an_input_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let snap = dir.path().join("snap.json");
        std::fs::write(&snap, "{}").unwrap();
        let via = dir.path().join(".").join("snap.json");
        let e = refuse_input(Some(&via), &[("snapshot", &snap)]).unwrap_err();
        assert!(e.0.contains("is the snapshot this run reads"), "{}", e.0);
        assert!(refuse_input(Some(&dir.path().join("other.json")), &[("snapshot", &snap)]).is_ok());
        assert!(refuse_input(Some(Path::new("-")), &[("snapshot", &snap)]).is_ok());
    }
}
