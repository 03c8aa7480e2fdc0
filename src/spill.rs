//! Unnamed temporary files for what does not fit in memory: the exact
//! shingle sets of candidate documents, sorted runs of band keys under
//! `--memory-limit`, the ids of `--duplicates-only`, and the cleaner's cut
//! log in `doppel run`.
//!
//! A spill file is written once, front to back, through a buffer, then read
//! back with positioned reads by any number of threads at once. It has no
//! name, so the operating system removes it when it is closed, even when
//! doppel is killed.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// An append-then-read temporary file.
#[derive(Debug)]
pub(crate) struct SpillFile {
    file: File,
    writer: Option<BufWriter<File>>,
    len: u64,
}

impl SpillFile {
    /// An empty spill file in `dir`.
    pub(crate) fn create(dir: &Path) -> std::io::Result<SpillFile> {
        crate::failpoint::hit("spill");
        let file = tempfile::tempfile_in(dir)?;
        let writer = BufWriter::with_capacity(1 << 20, file.try_clone()?);
        Ok(SpillFile { file, writer: Some(writer), len: 0 })
    }

    /// Appends `bytes`; fails once [`SpillFile::finish`] has been called.
    pub(crate) fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        #[cfg(test)]
        if self.len + bytes.len() as u64 > tests::disk_room() {
            return Err(std::io::ErrorKind::StorageFull.into());
        }
        let writer = self.writer.as_mut().ok_or_else(|| std::io::Error::other("spill file already finished"))?;
        writer.write_all(bytes)?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Flushes the writes; call once, before reading.
    pub(crate) fn finish(&mut self) -> std::io::Result<()> {
        #[cfg(test)]
        if self.writer.is_some() && tests::take_failing_flush() {
            return Err(std::io::ErrorKind::StorageFull.into());
        }
        if let Some(mut w) = self.writer.take() {
            w.flush()?;
        }
        Ok(())
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Fills `buf` from `offset`; the file must be finished.
    pub(crate) fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        read_at(&self.file, buf, offset)
    }

    /// The whole file from its start, buffered; the file must be finished.
    pub(crate) fn reader(&self) -> impl std::io::BufRead + '_ {
        std::io::BufReader::with_capacity(1 << 16, SpillReader { spill: self, offset: 0 })
    }
}

/// Sequential reads by positioned reads, so that readers share no cursor.
struct SpillReader<'a> {
    spill: &'a SpillFile,
    offset: u64,
}

impl std::io::Read for SpillReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.spill.len - self.offset;
        let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        self.spill.read_exact_at(&mut buf[..n], self.offset)?;
        self.offset += n as u64;
        Ok(n)
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        let n = std::os::windows::fs::FileExt::seek_read(file, buf, offset)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n..];
        offset += n as u64;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use std::cell::Cell;

    thread_local! {
        static ROOM: Cell<u64> = const { Cell::new(u64::MAX) };
        static FAIL_FLUSH: Cell<bool> = const { Cell::new(false) };
    }

    /// Makes the next final flush of a spill file on this thread report a
    /// full disk: the buffered tail is what meets it in real life.
    pub(crate) fn fail_next_flush() {
        FAIL_FLUSH.with(|f| f.set(true));
    }

    pub(crate) fn take_failing_flush() -> bool {
        FAIL_FLUSH.with(|f| f.replace(false))
    }

    /// Bytes a spill file may hold before it reports a full disk (tests
    /// only; per thread, so tests running at once do not meet).
    pub(crate) fn disk_room() -> u64 {
        ROOM.with(Cell::get)
    }

    /// Makes spill files written on this thread report a full disk past `bytes`.
    pub(crate) fn set_disk_room(bytes: u64) {
        ROOM.with(|r| r.set(bytes));
    }
}
