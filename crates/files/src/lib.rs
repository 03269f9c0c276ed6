//! pipectl's own files: reads that stop at a size cap whatever the file reports (a device such
//! as `/dev/zero` reports 0 bytes and never ends), and writes that replace a file atomically
//! through a temporary file created exclusively (`O_EXCL`, a random name) beside it, so that a
//! reader or a killed writer never sees half a file and a link planted at a predictable
//! temporary name is never followed.

use std::io::{Read, Write};
use std::path::Path;

/// Why a capped read failed.
#[derive(Debug)]
pub enum ReadError {
    /// The file holds more than the cap (at least `cap + 1` bytes were read).
    TooLarge {
        /// The cap, in bytes.
        cap: u64,
    },
    /// Opening or reading failed.
    Io(std::io::Error),
}

/// The whole of `path`, or [`ReadError::TooLarge`] after reading at most `cap + 1` bytes.
pub fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > cap {
        return Err(ReadError::TooLarge { cap });
    }
    Ok(bytes)
}

/// Replaces `path` with `body`: written to a new, exclusively created temporary file in the
/// same directory, synced, then renamed over `path` (a link at `path` is replaced, not
/// followed).
pub fn write_atomic(path: &Path, body: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".pipectl-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(body)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_that_never_ends_is_read_only_to_the_cap() {
        let zero = Path::new("/dev/zero");
        if !zero.exists() {
            return;
        }
        assert!(matches!(
            read_capped(zero, 1024),
            Err(ReadError::TooLarge { cap: 1024 })
        ));
    }

    #[test]
    fn a_file_at_the_cap_is_read_and_one_byte_more_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"abcd").unwrap();
        assert_eq!(read_capped(&p, 4).unwrap(), b"abcd");
        assert!(matches!(
            read_capped(&p, 3),
            Err(ReadError::TooLarge { .. })
        ));
        assert!(matches!(
            read_capped(&dir.path().join("missing"), 3),
            Err(ReadError::Io(_))
        ));
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_link_is_neither_followed_nor_left() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        let target = dir.path().join("report.csv");
        // links at the target and at every name the old code used for its temporary file
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join(".report.csv.tmp")).unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join("report.json.tmp")).unwrap();
        write_atomic(&target, b"new").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert!(
            !std::fs::symlink_metadata(&target)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".pipectl-"))
            .collect();
        assert!(left.is_empty(), "no temporary file left behind");
    }
}
