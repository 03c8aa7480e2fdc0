//! Output writers: every file appears whole or not at all.
//!
//! Each output is written to a hidden temporary file in the output directory
//! and renamed into place only when the whole run has succeeded
//! ([`OutputSet::commit`]). A crash or an error leaves the previous outputs
//! (or none) and no half-written file under a final name; the temporary
//! files are removed when dropped.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// A hidden temporary file in `dir`, to be renamed into place.
///
/// Temporary files are made readable by their owner only; an output is
/// renamed with its mode, so it is opened as `File::create` would open it
/// (0666 less the umask): a pipeline's next user can read what doppel wrote.
fn temp_file_in(dir: &Path, prefix: &str) -> std::io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir)
}

/// One output file being written.
pub struct OutputFile {
    final_path: PathBuf,
    writer: BufWriter<tempfile::NamedTempFile>,
}

impl OutputFile {
    /// The writer; errors are reported against the final path.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        self.writer.write_all(bytes).map_err(|e| Error::io(&self.final_path, e))
    }

    /// Writes one JSON value followed by a newline.
    pub fn write_json_line<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        serde_json::to_writer(&mut self.writer, value)
            .map_err(|e| Error::io(&self.final_path, std::io::Error::other(e)))?;
        self.write_all(b"\n")
    }
}

/// The files of one run, renamed into place together.
pub struct OutputSet {
    dir: PathBuf,
    files: Vec<OutputFile>,
    /// Outputs of an earlier run that this one does not write, removed on
    /// commit so that they are not read as its own.
    stale: Vec<PathBuf>,
}

impl OutputSet {
    /// Prepares to write into `dir`, creating it if needed.
    pub fn new(dir: &Path) -> Result<OutputSet> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        Ok(OutputSet { dir: dir.to_path_buf(), files: Vec::new(), stale: Vec::new() })
    }

    /// The output directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Starts the output `name`; returns its index for [`OutputSet::file`].
    pub fn create(&mut self, name: &str) -> Result<usize> {
        let final_path = self.dir.join(name);
        let tmp = temp_file_in(&self.dir, &format!(".{name}.")).map_err(|e| Error::io(&final_path, e))?;
        self.files.push(OutputFile { final_path, writer: BufWriter::with_capacity(1 << 20, tmp) });
        Ok(self.files.len() - 1)
    }

    /// The output started as `index`.
    pub fn file(&mut self, index: usize) -> &mut OutputFile {
        &mut self.files[index]
    }

    /// Two different outputs at once (`a != b`).
    pub fn pair(&mut self, a: usize, b: usize) -> (&mut OutputFile, &mut OutputFile) {
        assert_ne!(a, b, "two different outputs");
        if a < b {
            let (left, right) = self.files.split_at_mut(b);
            (&mut left[a], &mut right[0])
        } else {
            let (left, right) = self.files.split_at_mut(a);
            (&mut right[0], &mut left[b])
        }
    }

    /// Removes the output `name` of an earlier run when this one commits.
    pub fn remove_on_commit(&mut self, name: &str) {
        self.stale.push(self.dir.join(name));
    }

    /// Flushes every file started so far and waits until the disk holds
    /// it. [`OutputSet::commit`] does this too; a job calls it first so
    /// that the time it takes (seconds for a gigabyte) is counted in the
    /// figures the job reports, which are written before the commit.
    pub fn sync(&mut self) -> Result<()> {
        for f in &mut self.files {
            f.writer.flush().map_err(|e| Error::io(&f.final_path, e))?;
            f.writer.get_ref().as_file().sync_data().map_err(|e| Error::io(&f.final_path, e))?;
        }
        Ok(())
    }

    /// Flushes, syncs and renames every file into place, in creation order.
    pub fn commit(self) -> Result<()> {
        let mut ready = Vec::with_capacity(self.files.len());
        for f in self.files {
            let final_path = f.final_path;
            let tmp = f.writer.into_inner().map_err(|e| Error::io(&final_path, e.into_error()))?;
            tmp.as_file().sync_data().map_err(|e| Error::io(&final_path, e))?;
            ready.push((tmp, final_path));
        }
        // Stale outputs go first: a crash between the two steps must not
        // leave this run's lists beside an earlier run's corpus.
        for path in self.stale {
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(Error::io(&path, e)),
                _ => {}
            }
        }
        for (tmp, final_path) in ready {
            tmp.persist(&final_path).map_err(|e| Error::io(&final_path, e.error))?;
        }
        Ok(())
    }
}

enum Encoder {
    Plain(BufWriter<tempfile::NamedTempFile>),
    Gzip(flate2::write::GzEncoder<BufWriter<tempfile::NamedTempFile>>),
    Zstd(zstd::stream::write::Encoder<'static, BufWriter<tempfile::NamedTempFile>>),
}

/// A single file written atomically, compressed with zstd or gzip when its
/// name ends in `.zst` or `.gz`.
pub struct AtomicFile {
    path: PathBuf,
    encoder: Encoder,
}

impl AtomicFile {
    /// Starts writing `path` (through a temporary file beside it).
    pub fn create(path: &Path) -> Result<AtomicFile> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let tmp = temp_file_in(dir, ".doppel-").map_err(|e| Error::io(path, e))?;
        let buf = BufWriter::with_capacity(1 << 20, tmp);
        let name = path.to_string_lossy();
        let encoder = if name.ends_with(".zst") {
            Encoder::Zstd(zstd::stream::write::Encoder::new(buf, 3).map_err(|e| Error::io(path, e))?)
        } else if name.ends_with(".gz") {
            Encoder::Gzip(flate2::write::GzEncoder::new(buf, flate2::Compression::default()))
        } else {
            Encoder::Plain(buf)
        };
        Ok(AtomicFile { path: path.to_path_buf(), encoder })
    }

    /// Finishes compression, syncs and renames into place.
    pub fn commit(self) -> Result<()> {
        let path = self.path;
        let buf = match self.encoder {
            Encoder::Plain(b) => b,
            Encoder::Gzip(g) => g.finish().map_err(|e| Error::io(&path, e))?,
            Encoder::Zstd(z) => z.finish().map_err(|e| Error::io(&path, e))?,
        };
        let tmp = buf.into_inner().map_err(|e| Error::io(&path, e.into_error()))?;
        tmp.as_file().sync_data().map_err(|e| Error::io(&path, e))?;
        tmp.persist(&path).map_err(|e| Error::io(&path, e.error))?;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.encoder {
            Encoder::Plain(w) => w.write(buf),
            Encoder::Gzip(w) => w.write(buf),
            Encoder::Zstd(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.encoder {
            Encoder::Plain(w) => w.flush(),
            Encoder::Gzip(w) => w.flush(),
            Encoder::Zstd(w) => w.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_appears_until_commit() {
        let dir = tempfile::tempdir().unwrap();
        let mut set = OutputSet::new(dir.path()).unwrap();
        let i = set.create("a.jsonl").unwrap();
        set.file(i).write_all(b"x\n").unwrap();
        assert!(!dir.path().join("a.jsonl").exists());
        set.commit().unwrap();
        assert_eq!(std::fs::read(dir.path().join("a.jsonl")).unwrap(), b"x\n");
        // No temporary files are left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    // Outputs are read by whoever runs the next step: they get the mode a
    // plain `File::create` gets under the same umask, not the owner-only
    // mode of a temporary file.
    #[cfg(unix)]
    #[test]
    fn outputs_get_the_mode_of_an_ordinary_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |name: &str| std::fs::metadata(dir.path().join(name)).unwrap().permissions().mode() & 0o777;
        std::fs::File::create(dir.path().join("plain")).unwrap();
        let mut set = OutputSet::new(dir.path()).unwrap();
        set.create("a.jsonl").unwrap();
        set.commit().unwrap();
        let mut single = AtomicFile::create(&dir.path().join("b.jsonl.gz")).unwrap();
        single.write_all(b"x").unwrap();
        single.commit().unwrap();
        assert_eq!(mode("a.jsonl"), mode("plain"));
        assert_eq!(mode("b.jsonl.gz"), mode("plain"));
    }

    #[test]
    fn dropped_set_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut set = OutputSet::new(dir.path()).unwrap();
            let i = set.create("a.jsonl").unwrap();
            set.file(i).write_all(b"partial").unwrap();
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
