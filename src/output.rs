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

/// One output file being written.
pub struct OutputFile {
    final_path: PathBuf,
    writer: BufWriter<tempfile::NamedTempFile>,
}

impl OutputFile {
    /// The writer; errors are reported against the final path.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        self.writer
            .write_all(bytes)
            .map_err(|e| Error::io(&self.final_path, e))
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
}

impl OutputSet {
    /// Prepares to write into `dir`, creating it if needed.
    pub fn new(dir: &Path) -> Result<OutputSet> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        Ok(OutputSet {
            dir: dir.to_path_buf(),
            files: Vec::new(),
        })
    }

    /// Starts the output `name`; returns its index for [`OutputSet::file`].
    pub fn create(&mut self, name: &str) -> Result<usize> {
        let final_path = self.dir.join(name);
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .tempfile_in(&self.dir)
            .map_err(|e| Error::io(&final_path, e))?;
        self.files.push(OutputFile {
            final_path,
            writer: BufWriter::with_capacity(1 << 20, tmp),
        });
        Ok(self.files.len() - 1)
    }

    /// The output started as `index`.
    pub fn file(&mut self, index: usize) -> &mut OutputFile {
        &mut self.files[index]
    }

    /// Flushes, syncs and renames every file into place, in creation order.
    pub fn commit(self) -> Result<()> {
        let mut ready = Vec::with_capacity(self.files.len());
        for f in self.files {
            let final_path = f.final_path;
            let tmp = f
                .writer
                .into_inner()
                .map_err(|e| Error::io(&final_path, e.into_error()))?;
            tmp.as_file()
                .sync_data()
                .map_err(|e| Error::io(&final_path, e))?;
            ready.push((tmp, final_path));
        }
        for (tmp, final_path) in ready {
            tmp.persist(&final_path)
                .map_err(|e| Error::io(&final_path, e.error))?;
        }
        Ok(())
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
