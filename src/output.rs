//! Output writers: a run's outputs appear together, whole, or not at all.
//!
//! A run writes its outputs into a staging directory beside the output
//! directory (`.NAME.doppel-staging-*` in its parent) and, once the whole
//! run has succeeded, swaps the two in one step ([`OutputSet::commit`],
//! `renameat2(RENAME_EXCHANGE)` on Linux): a reader of the output
//! directory sees the previous run's files or this run's, never a mix, and
//! none of an earlier command's files survive beside this run's. A crash
//! leaves the previous outputs and a staging directory that the next run
//! into the same directory removes.
//!
//! A run holds a lock on its output directory (`.doppel.lock`, which says
//! which process holds it) from start to commit: a second run into the
//! same directory fails at once, naming the first.
//!
//! Where the staging directory cannot sit beside the output directory (an
//! output directory that is a mount point or the current directory, or a
//! parent doppel may not write), it sits inside it and the outputs are
//! renamed into place one by one: each file whole, the set not atomic.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The lock file in every output directory; its presence also marks the
/// directory as doppel's, so that it is never read as input.
pub const LOCK_FILE: &str = ".doppel.lock";

/// Names doppel writes in an output directory. Anything else found there
/// (other than doppel's hidden files and a run's inputs) makes a run refuse
/// the directory rather than replace it.
pub const OUTPUT_NAMES: &[&str] = &[
    "deduped.jsonl",
    "annotated.jsonl",
    "clusters.jsonl",
    "removed.jsonl",
    "rejected.jsonl",
    "cleaned.jsonl",
    "stats.json",
    "truth_pairs.jsonl",
    "eval.json",
    "report.html",
    "run",
];

/// Whether `name` is a hidden file or directory doppel makes while it
/// works (spools, temporary files, staging directories, the lock).
pub fn is_doppel_hidden(name: &str) -> bool {
    name == LOCK_FILE
        || name.starts_with(".doppel-")
        || (name.starts_with('.') && (name.ends_with(".tmp") || name.contains(".doppel-staging-")))
}

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
    writer: BufWriter<File>,
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

/// How [`OutputSet::commit`] puts the staging directory in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Commit {
    /// The staging directory is a sibling: swapped with the output
    /// directory in one step.
    Swap,
    /// The staging directory is inside the output directory: its entries
    /// are renamed into place one by one.
    InPlace,
}

/// The files of one run, put in place together.
pub struct OutputSet {
    dir: PathBuf,
    staging: PathBuf,
    commit: Commit,
    files: Vec<OutputFile>,
    // Held from start to commit: see the module's documentation; and the
    // staging directory's, which becomes the output directory's.
    _lock: File,
    _new_lock: File,
    // Outputs written under a hidden name, and their names (see `create`).
    renames: Vec<(PathBuf, PathBuf)>,
    // The run's inputs (canonical), never removed by an in-place commit.
    inputs: Vec<PathBuf>,
    // Whether this run made the directory's lock file (a failed run in a
    // directory that was not doppel's leaves it as it found it).
    lock_created: bool,
    // Whether the directory's old contents were checked (`keep_inputs`).
    checked: bool,
    // Whether this run made the directory: a failed run removes it again.
    created: bool,
    committed: bool,
}

impl OutputSet {
    /// Prepares to write into `dir`, creating it if needed: takes its lock,
    /// removes what a killed run left there, and makes the staging
    /// directory (so that a directory doppel may not write is found before
    /// any work, not after it).
    pub fn new(dir: &Path) -> Result<OutputSet> {
        if let Ok(meta) = std::fs::metadata(dir)
            && !meta.is_dir()
        {
            return Err(Error::io(
                dir,
                std::io::Error::other("exists and is not a directory: give a directory for --out"),
            ));
        }
        let created = !dir.exists();
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let dir = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
        // Only a directory doppel wrote before (its lock is there) has
        // leftovers of doppel's to remove; in any other, nothing is touched
        // before its contents are checked.
        let doppels = dir.join(LOCK_FILE).exists();
        let lock = lock_dir(&dir)?;
        if doppels {
            remove_leftovers(&dir)?;
        }
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let prefix = format!(".{name}.doppel-staging-");
        // Swapped only when it is safe to move the directory itself: not a
        // mount point, and not where this process (or the shell that ran it)
        // stands, which would be left in a deleted directory.
        let holds_cwd = std::env::current_dir()
            .ok()
            .and_then(|cwd| cwd.canonicalize().ok())
            .is_some_and(|cwd| cwd.starts_with(&dir));
        let beside = dir.parent().filter(|parent| !name.is_empty() && !holds_cwd && same_device(parent, &dir));
        if let Some(parent) = beside
            && doppels
        {
            remove_matching(parent, |n| n.starts_with(&prefix));
        }
        // The new directory gets the old one's mode, or a new directory's
        // (0777 less the umask), not a temporary directory's 0700.
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = if created { 0o777 } else { std::fs::metadata(&dir).map_or(0o777, |m| m.permissions().mode()) };
            builder.permissions(std::fs::Permissions::from_mode(mode));
        }
        let staged = beside.and_then(|parent| builder.tempdir_in(parent).ok());
        // Created through the umask: a shared directory's group bits and
        // setgid are set again as they were.
        #[cfg(unix)]
        if let Some(t) = &staged
            && !created
            && let Ok(meta) = std::fs::metadata(&dir)
        {
            let _ = std::fs::set_permissions(t.path(), meta.permissions());
        }
        let (staging, commit) = match staged {
            Some(t) => (t.keep(), Commit::Swap),
            None => {
                let t = tempfile::Builder::new()
                    .prefix(".doppel-staging-")
                    .tempdir_in(&dir)
                    .map_err(|e| Error::io(&dir, e))?;
                (t.keep(), Commit::InPlace)
            }
        };
        // The new directory is marked as doppel's, like the old one, and
        // its lock is held too: once swapped in, the directory stays locked
        // until this run is done with the old one.
        let new_lock = File::create(staging.join(LOCK_FILE)).map_err(|e| Error::io(&dir, e))?;
        if new_lock.try_lock().is_ok() {
            let _ = write_holder(&new_lock);
        }
        Ok(OutputSet {
            dir,
            staging,
            commit,
            files: Vec::new(),
            _lock: lock,
            _new_lock: new_lock,
            inputs: Vec::new(),
            renames: Vec::new(),
            checked: false,
            created,
            lock_created: !doppels,
            committed: false,
        })
    }

    /// The output directory (absolute).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where a job keeps its temporary files (spools, spills, logs): the
    /// staging directory, so that what a killed run leaves is removed by
    /// the next, and nothing of it is committed unless it is an output.
    pub fn work_dir(&self) -> &Path {
        &self.staging
    }

    /// Starts the output `name`; returns its index for [`OutputSet::file`].
    pub fn create(&mut self, name: &str) -> Result<usize> {
        let final_path = self.dir.join(name);
        // A fresh file. The name may be a link to an input that was kept
        // (`keep_inputs`): written under a hidden name, and renamed over the
        // link at commit, once the input is read (neither truncated nor
        // unlinked while it is read: unlinking moves its change time).
        let mut path = self.staging.join(name);
        if path.exists() {
            path = self.staging.join(format!(".doppel-new-{name}"));
            self.renames.push((path.clone(), self.staging.join(name)));
        }
        let file = File::create(&path).map_err(|e| Error::io(&final_path, e))?;
        self.files.push(OutputFile { final_path, writer: BufWriter::with_capacity(1 << 20, file) });
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

    /// Checks what the output directory holds before the run replaces it:
    /// doppel's own outputs and hidden files go, a run's input files
    /// (`inputs`, any path) are kept (linked into the new directory under
    /// their name, unless the run writes an output of that name), and
    /// anything else is an error: doppel does not delete what it did not
    /// write.
    pub fn keep_inputs(&mut self, inputs: &[PathBuf]) -> Result<()> {
        self.checked = true;
        let inputs: Vec<PathBuf> = inputs.iter().filter_map(|p| p.canonicalize().ok()).collect();
        self.inputs.clone_from(&inputs);
        let mut foreign = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(|e| Error::io(&self.dir, e))? {
            let entry = entry.map_err(|e| Error::io(&self.dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if self.commit == Commit::InPlace && path == self.staging {
                continue;
            }
            if inputs.contains(&path) {
                let target = self.staging.join(&name);
                if self.commit == Commit::Swap && !target.exists() {
                    std::fs::hard_link(&path, &target)
                        .or_else(|_| std::fs::copy(&path, &target).map(drop))
                        .map_err(|e| Error::io(&path, e))?;
                }
            } else if !OUTPUT_NAMES.contains(&name.as_str()) && !is_doppel_hidden(&name) {
                foreign.push(name);
            }
        }
        if !foreign.is_empty() {
            foreign.sort();
            let shown = foreign.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
            let more = if foreign.len() > 3 { format!(" and {} more", foreign.len() - 3) } else { String::new() };
            return Err(Error::config(format!(
                "--out {} holds files doppel did not write ({shown}{more}); a run replaces its output directory \
                 whole: give an empty or new directory",
                self.dir.display()
            )));
        }
        Ok(())
    }

    /// Flushes every file started so far and waits until the disk holds
    /// it. [`OutputSet::commit`] does this too; a job calls it first so
    /// that the time it takes (seconds for a gigabyte) is counted in the
    /// figures the job reports, which are written before the commit.
    pub fn sync(&mut self) -> Result<()> {
        for f in &mut self.files {
            crate::failpoint::io("output_sync").map_err(|e| Error::io(&f.final_path, e))?;
            f.writer.flush().map_err(|e| Error::io(&f.final_path, e))?;
            f.writer.get_ref().sync_data().map_err(|e| Error::io(&f.final_path, e))?;
        }
        Ok(())
    }

    /// Syncs every file and puts the run's outputs in place.
    pub fn commit(mut self) -> Result<()> {
        if !self.checked {
            self.keep_inputs(&[])?;
        }
        self.sync()?;
        self.files.clear();
        for (from, to) in std::mem::take(&mut self.renames) {
            std::fs::rename(&from, &to).map_err(|e| Error::io(&to, e))?;
        }
        // A job's temporary files (a spool still open, spills) are not
        // outputs: on Unix an open file outlives its name.
        remove_matching(&self.staging, |name| name != LOCK_FILE && is_doppel_hidden(name));
        sync_dir(&self.staging);
        crate::failpoint::hit("commit");
        match self.commit {
            Commit::Swap => {
                let old = swap_dirs(&self.staging, &self.dir).map_err(|e| Error::io(&self.dir, e))?;
                self.committed = true;
                if let Some(parent) = self.dir.parent() {
                    sync_dir(parent);
                }
                // The previous outputs: nobody's now.
                let _ = std::fs::remove_dir_all(old);
            }
            Commit::InPlace => {
                // Earlier outputs this run does not write go first: a crash
                // between the two steps must not leave this run's lists
                // beside an earlier run's corpus.
                for name in OUTPUT_NAMES {
                    let path = self.dir.join(name);
                    if !self.staging.join(name).exists() && !self.inputs.contains(&path) {
                        remove_path(&path).map_err(|e| Error::io(&path, e))?;
                    }
                }
                for entry in std::fs::read_dir(&self.staging).map_err(|e| Error::io(&self.staging, e))? {
                    let entry = entry.map_err(|e| Error::io(&self.staging, e))?;
                    let name = entry.file_name();
                    if name == LOCK_FILE || is_doppel_hidden(&name.to_string_lossy()) {
                        continue;
                    }
                    let target = self.dir.join(&name);
                    if entry.path().is_dir() {
                        remove_path(&target).map_err(|e| Error::io(&target, e))?;
                    }
                    crate::failpoint::hit("rename");
                    std::fs::rename(entry.path(), &target).map_err(|e| Error::io(&target, e))?;
                }
                self.committed = true;
                sync_dir(&self.dir);
                let _ = std::fs::remove_dir_all(&self.staging);
            }
        }
        Ok(())
    }
}

impl Drop for OutputSet {
    fn drop(&mut self) {
        if !self.committed {
            self.files.clear();
            let _ = std::fs::remove_dir_all(&self.staging);
            // A run that fails leaves no empty directory behind it, and no
            // lock in a directory that was not doppel's.
            if self.created || self.lock_created {
                let _ = std::fs::remove_file(self.dir.join(LOCK_FILE));
            }
            if self.created {
                let _ = std::fs::remove_dir(&self.dir);
            }
        }
    }
}

/// Takes the lock of output directory `dir`, or says who holds it.
fn lock_dir(dir: &Path) -> Result<File> {
    let path = dir.join(LOCK_FILE);
    // A run that swapped a new directory in between our open and our lock
    // leaves us holding the old one's lock: open again.
    for _ in 0..8 {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(dir, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                let holder = holder.trim();
                let holder = if holder.is_empty() { String::new() } else { format!(" ({holder})") };
                return Err(Error::OutputBusy { dir: dir.to_path_buf(), holder });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        if !same_file(&file, &path) {
            continue;
        }
        write_holder(&file).map_err(|e| Error::io(&path, e))?;
        return Ok(file);
    }
    Err(Error::OutputBusy { dir: dir.to_path_buf(), holder: String::new() })
}

/// Whether the open `file` is the one at `path`.
fn same_file(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        matches!((file.metadata(), std::fs::metadata(path)), (Ok(a), Ok(b)) if (a.dev(), a.ino()) == (b.dev(), b.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        true
    }
}

/// Writes who holds a lock into its file, for the run that finds it held.
fn write_holder(file: &File) -> std::io::Result<()> {
    // A time a person reads (UTC, to the second).
    let started = jiff::Timestamp::now().round(jiff::Unit::Second).unwrap_or_else(|_| jiff::Timestamp::now());
    let command: Vec<String> = std::env::args().collect();
    let note = format!("pid {}, started at {started}, `{}`", std::process::id(), command.join(" "));
    file.set_len(0).and_then(|()| (&*file).write_all(note.as_bytes()))
}

/// Removes what a killed run left in output directory `dir`: spools,
/// temporary files, an in-place staging directory. Only the holder of the
/// directory's lock calls this, so none of it is in use.
fn remove_leftovers(dir: &Path) -> Result<()> {
    remove_matching(dir, |name| name != LOCK_FILE && is_doppel_hidden(name));
    Ok(())
}

/// Removes the entries of `dir` whose names `matches`, best effort.
fn remove_matching(dir: &Path, matches: impl Fn(&str) -> bool) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        if matches(&entry.file_name().to_string_lossy()) {
            let _ = remove_path(&entry.path());
        }
    }
}

/// Removes a file or a directory tree; a missing one is not an error.
fn remove_path(path: &Path) -> std::io::Result<()> {
    let result = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) => Err(e),
    };
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Whether two paths are on one file system (a rename between them works).
fn same_device(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        matches!((std::fs::metadata(a), std::fs::metadata(b)), (Ok(x), Ok(y)) if x.dev() == y.dev())
    }
    #[cfg(not(unix))]
    {
        let _ = (a, b);
        true
    }
}

/// Syncs a directory's entries (best effort: not every platform can).
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Puts `staging` at `dir`'s path and returns where `dir`'s old contents
/// now are. On Linux the two are exchanged in one step; elsewhere, or on a
/// file system that cannot exchange, `dir` is first renamed aside (a
/// moment with no directory at its path, never a mix).
fn swap_dirs(staging: &Path, dir: &Path) -> std::io::Result<PathBuf> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, staging, CWD, dir, RenameFlags::EXCHANGE) {
            Ok(()) => return Ok(staging.to_path_buf()),
            // No exchange on this file system or kernel: the fallback.
            Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS | rustix::io::Errno::OPNOTSUPP) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let mut aside = staging.as_os_str().to_owned();
    aside.push("-old");
    let aside = PathBuf::from(aside);
    std::fs::rename(dir, &aside)?;
    if let Err(e) = std::fs::rename(staging, dir) {
        // Put the old outputs back rather than leave no directory.
        let _ = std::fs::rename(&aside, dir);
        return Err(e);
    }
    Ok(aside)
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

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn nothing_appears_until_commit_and_then_only_this_runs_outputs() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("out");
        let mut set = OutputSet::new(&dir).unwrap();
        let i = set.create("clusters.jsonl").unwrap();
        set.file(i).write_all(b"x\n").unwrap();
        assert!(!dir.join("clusters.jsonl").exists());
        set.commit().unwrap();
        assert_eq!(std::fs::read(dir.join("clusters.jsonl")).unwrap(), b"x\n");
        assert_eq!(names(&dir), [LOCK_FILE, "clusters.jsonl"]);
        // A second run replaces the first whole, and leaves no staging
        // directory beside it.
        let mut set = OutputSet::new(&dir).unwrap();
        set.create("stats.json").unwrap();
        set.commit().unwrap();
        assert_eq!(names(&dir), [LOCK_FILE, "stats.json"]);
        assert_eq!(names(root.path()), ["out"]);
    }

    #[test]
    fn a_second_run_into_the_same_directory_fails_naming_the_first() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("out");
        let first = OutputSet::new(&dir).unwrap();
        let err = OutputSet::new(&dir).err().unwrap().to_string();
        assert!(
            err.contains("in use by another doppel run") && err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(first);
        OutputSet::new(&dir).unwrap();
    }

    #[test]
    fn files_doppel_did_not_write_are_not_replaced_but_inputs_are_kept() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("out");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("notes.txt"), "mine").unwrap();
        std::fs::write(dir.join("deduped.jsonl"), "old").unwrap();
        let mut set = OutputSet::new(&dir).unwrap();
        set.create("clusters.jsonl").unwrap();
        let err = set.commit().err().unwrap().to_string();
        assert!(err.contains("notes.txt") && err.contains("did not write"), "{err}");
        assert_eq!(std::fs::read_to_string(dir.join("notes.txt")).unwrap(), "mine");
        // An input in the directory survives a run that does not write it.
        let mut set = OutputSet::new(&dir).unwrap();
        set.keep_inputs(&[dir.join("deduped.jsonl"), dir.join("notes.txt")]).unwrap();
        set.create("clusters.jsonl").unwrap();
        set.commit().unwrap();
        assert_eq!(names(&dir), [LOCK_FILE, "clusters.jsonl", "deduped.jsonl", "notes.txt"]);
        assert_eq!(std::fs::read_to_string(dir.join("deduped.jsonl")).unwrap(), "old");
    }

    #[test]
    fn a_file_in_the_way_or_leftovers_of_a_killed_run_are_handled_at_the_start() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("out");
        std::fs::write(&file, "x").unwrap();
        let err = OutputSet::new(&file).err().unwrap().to_string();
        assert!(err.contains("not a directory"), "{err}");
        let dir = root.path().join("out2");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join(LOCK_FILE), "").unwrap();
        std::fs::write(dir.join(".doppel-stdin-abc"), "spool").unwrap();
        std::fs::write(dir.join(".clusters.jsonl.x1.tmp"), "partial").unwrap();
        std::fs::create_dir(root.path().join(".out2.doppel-staging-x")).unwrap();
        let set = OutputSet::new(&dir).unwrap();
        assert_eq!(names(&dir), [LOCK_FILE]);
        set.commit().unwrap();
        assert_eq!(names(root.path()), ["out", "out2"]);
    }

    // Outputs are read by whoever runs the next step: they get the mode a
    // plain `File::create` gets under the same umask.
    #[cfg(unix)]
    #[test]
    fn outputs_get_the_mode_of_an_ordinary_file() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("out");
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        std::fs::File::create(root.path().join("plain")).unwrap();
        let mut set = OutputSet::new(&dir).unwrap();
        set.create("clusters.jsonl").unwrap();
        set.commit().unwrap();
        let mut single = AtomicFile::create(&root.path().join("b.jsonl.gz")).unwrap();
        single.write_all(b"x").unwrap();
        single.commit().unwrap();
        assert_eq!(mode(&dir.join("clusters.jsonl")), mode(&root.path().join("plain")));
        // The directory too: a new one as `mkdir` makes it, an old one as it was.
        std::fs::create_dir(root.path().join("plain-dir")).unwrap();
        assert_eq!(mode(&dir), mode(&root.path().join("plain-dir")));
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o750)).unwrap();
        OutputSet::new(&dir).unwrap().commit().unwrap();
        assert_eq!(mode(&dir), 0o750);
        assert_eq!(mode(&root.path().join("b.jsonl.gz")), mode(&root.path().join("plain")));
    }

    #[test]
    fn dropped_set_leaves_nothing() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("out");
        let failed_run = || {
            let mut set = OutputSet::new(&dir).unwrap();
            let i = set.create("clusters.jsonl").unwrap();
            set.file(i).write_all(b"partial").unwrap();
        };
        // Into a new directory: not even the directory stays.
        failed_run();
        assert_eq!(names(root.path()), Vec::<String>::new());
        // Into an existing one: what it held.
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("stats.json"), "{}").unwrap();
        failed_run();
        assert_eq!(names(&dir), ["stats.json"], "no lock left in a directory that was not doppel's");
        assert_eq!(names(root.path()), ["out"]);
    }
}
