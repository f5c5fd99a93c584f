//! Writing outputs: to stdout, or to a file through a temporary file renamed into place, so a
//! failed run never leaves a half-written file behind.

use super::InputError;
use std::io::Write;
use std::path::Path;

/// Renders into memory with `render`, then writes the bytes to `path` atomically, or to stdout
/// when `path` is `None` or `-`.
pub fn write_atomically(
    path: Option<&Path>,
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), InputError> {
    let mut buffer = Vec::new();
    render(&mut buffer).map_err(|e| InputError(format!("cannot render output: {e}")))?;
    match path {
        None => write_stdout(&buffer),
        Some(p) if p.as_os_str() == "-" => write_stdout(&buffer),
        Some(p) => {
            let dir = match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            let mut tmp = tempfile::NamedTempFile::new_in(dir)
                .map_err(|e| InputError(format!("cannot write `{}`: {e}", p.display())))?;
            tmp.write_all(&buffer)
                .map_err(|e| InputError(format!("cannot write `{}`: {e}", p.display())))?;
            tmp.persist(p)
                .map_err(|e| InputError(format!("cannot write `{}`: {}", p.display(), e.error)))?;
            Ok(())
        }
    }
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
