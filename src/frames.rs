//! Compressed inputs read frame by frame: zstd frames and gzip members.
//!
//! A compressed file is a sequence of independent frames (zstd) or members
//! (gzip): `pzstd` and `bgzip` write many, `cat a.gz b.gz` makes two, and
//! tools put metadata in zstd's skippable frames. [`FramedReader`] decodes
//! them one at a time, so that
//! - skippable frames are skipped, wherever they are;
//! - a damaged frame costs its own records only: reading resumes at the
//!   next frame, and the damage is reported in the stream as a
//!   [`DamagedFrame`] error once, naming the frame, its byte offset and how
//!   many lines it had given before it failed;
//! - a frame's records are handed on only once its check (zstd's content
//!   checksum, gzip's CRC) has passed, for frames of up to
//!   [`FRAME_HOLD_BYTES`] decoded; a larger frame is passed on as it is
//!   decoded (holding it would hold the file), and damage found at its end
//!   is reported after records it had already given;
//! - bytes after the last frame that are not a frame (trailing garbage)
//!   are reported, not read as a record.
//!
//! Reading resumes where the decoder stopped in the damaged frame. When the
//! damage makes it read past the frame's end, the next frame goes too: for
//! one flipped bit in the middle of three small frames, in 7 of 834 cases
//! for gzip and 4 of 504 for zstd (a probe over every byte and three bits).
//! Rescanning from the damaged frame's start would spare those, at the cost
//! of keeping its compressed bytes.

use std::io::{self, BufRead, Read};

/// Decoded bytes of one frame held until its check passes: bgzip's blocks
/// are 64 KiB, `pzstd`'s frames a few MiB. Holding costs a copy: `dedup`
/// of 100 MB as one gzip member took 1.05x the time it took before frames
/// were read one by one, as one zstd frame 1.01x (farm-bench, medians of 7
/// pair ratios); 32 MiB cost 1.08-1.16x.
pub const FRAME_HOLD_BYTES: usize = 16 << 20;

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

/// Whether `head` starts a zstd skippable frame (magic 0x184D2A5?).
fn is_skippable(head: &[u8]) -> bool {
    head.len() >= 4 && head[0] & 0xf0 == 0x50 && head[1..4] == [0x2a, 0x4d, 0x18]
}

/// The compression of a file, told by its first bytes; `None` for plain.
pub fn format_of(head: &[u8]) -> Option<Format> {
    if head.starts_with(&GZIP_MAGIC[..2]) {
        Some(Format::Gzip)
    } else if head.starts_with(&ZSTD_MAGIC) || is_skippable(head) {
        Some(Format::Zstd)
    } else {
        None
    }
}

/// A frame format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// gzip members.
    Gzip,
    /// zstd frames, skippable frames among them.
    Zstd,
}

impl Format {
    fn frame_name(self) -> &'static str {
        match self {
            Format::Gzip => "gzip member",
            Format::Zstd => "zstd frame",
        }
    }

    /// Whether `head` starts a frame of this format (as far as `head` goes).
    fn starts_frame(self, head: &[u8]) -> bool {
        let magic: &[u8] = match self {
            Format::Gzip => &GZIP_MAGIC,
            Format::Zstd if is_skippable(head) => return true,
            Format::Zstd => &ZSTD_MAGIC,
        };
        let n = head.len().min(magic.len());
        head[..n] == magic[..n]
    }
}

/// The error [`FramedReader`] reads as once for each damaged frame (or
/// run of bytes that is not a frame); reading goes on after it.
#[derive(Debug)]
pub struct DamagedFrame(pub String);

impl std::fmt::Display for DamagedFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DamagedFrame {}

/// Whether `e` is a [`DamagedFrame`]; its message if so.
pub fn damaged_frame(e: &io::Error) -> Option<&str> {
    e.get_ref().and_then(|inner| inner.downcast_ref::<DamagedFrame>()).map(|d| d.0.as_str())
}

/// The compressed bytes: a buffer that counts what was consumed (a frame's
/// offset) and can show the next few bytes whole, across refills (a magic
/// number cut by the buffer's end is still seen).
struct Lookahead<R> {
    inner: R,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    consumed: u64,
}

impl<R: Read> Lookahead<R> {
    fn new(inner: R) -> Lookahead<R> {
        Lookahead { inner, buf: vec![0; 1 << 20].into_boxed_slice(), start: 0, end: 0, consumed: 0 }
    }

    /// The next `n` bytes, or fewer at the end of the input.
    fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        if self.end - self.start < n {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            while self.end < n {
                match self.inner.read(&mut self.buf[self.end..]) {
                    Ok(0) => break,
                    Ok(k) => self.end += k,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(&self.buf[self.start..self.end.min(self.start + n)])
    }
}

/// `Read::read` for a reader whose buffer does the work.
fn read_from_buffer(reader: &mut impl BufRead, out: &mut [u8]) -> io::Result<usize> {
    let available = reader.fill_buf()?;
    let n = available.len().min(out.len());
    out[..n].copy_from_slice(&available[..n]);
    reader.consume(n);
    Ok(n)
}

impl<R: Read> Read for Lookahead<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        read_from_buffer(self, out)
    }
}

impl<R: Read> BufRead for Lookahead<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            loop {
                match self.inner.read(&mut self.buf) {
                    Ok(k) => {
                        self.end = k;
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(&self.buf[self.start..self.end])
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.consumed += n as u64;
    }
}

enum State<R: Read> {
    Between(Lookahead<R>),
    Zstd(zstd::stream::read::Decoder<'static, Lookahead<R>>),
    Gzip(flate2::bufread::GzDecoder<Lookahead<R>>),
    /// Only while the state is being replaced.
    Gone,
}

/// Decoded bytes of a compressed stream, frame by frame (see the module).
pub struct FramedReader<R: Read> {
    format: Format,
    state: State<R>,
    /// Decoded bytes not yet handed out, and where handing out is.
    out: Vec<u8>,
    pos: usize,
    /// The frame being decoded: its number (1-based), its offset, and
    /// whether part of it was handed out before its end (an over-long frame).
    frame: u64,
    frame_start: u64,
    streamed: bool,
    damage: Option<String>,
}

impl<R: Read> FramedReader<R> {
    /// Decodes `raw`, a stream of `format`'s frames.
    pub fn new(raw: R, format: Format) -> FramedReader<R> {
        FramedReader {
            format,
            state: State::Between(Lookahead::new(raw)),
            out: Vec::new(),
            pos: 0,
            frame: 0,
            frame_start: 0,
            streamed: false,
            damage: None,
        }
    }

    /// Decodes until there are bytes to hand out, a damage to report, or
    /// the end.
    fn refill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.pos = 0;
        loop {
            if self.damage.is_some() {
                return Ok(());
            }
            match std::mem::replace(&mut self.state, State::Gone) {
                State::Gone => return Ok(()),
                State::Between(raw) => {
                    if !self.start_frame(raw)? {
                        return Ok(());
                    }
                }
                State::Zstd(mut dec) => {
                    let result = decode_into(&mut dec, &mut self.out, self.streamed);
                    self.state = State::Zstd(dec);
                    if self.after_decode(result)? {
                        return Ok(());
                    }
                }
                State::Gzip(mut dec) => {
                    let result = decode_into(&mut dec, &mut self.out, self.streamed);
                    self.state = State::Gzip(dec);
                    if self.after_decode(result)? {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Starts the frame at `raw`'s position: skips skippable frames, skips
    /// bytes that are not a frame (reported as damage). False at the end.
    fn start_frame(&mut self, mut raw: Lookahead<R>) -> io::Result<bool> {
        loop {
            let head = raw.peek(8)?;
            if head.is_empty() {
                self.state = State::Gone;
                return Ok(false);
            }
            if self.format == Format::Zstd && is_skippable(head) {
                if head.len() < 8 {
                    self.skip_garbage(raw, "a skippable zstd frame cut short")?;
                    return Ok(true);
                }
                let size = u64::from(u32::from_le_bytes([head[4], head[5], head[6], head[7]]));
                raw.consume(8);
                let skipped = io::copy(&mut (&mut raw).take(size), &mut io::sink())?;
                if skipped < size {
                    let at = raw.consumed;
                    self.damage = Some(format!("a skippable zstd frame ending at byte {at} is cut short"));
                    self.state = State::Between(raw);
                    return Ok(true);
                }
                continue;
            }
            if !self.is_frame_start(head) {
                self.skip_garbage(raw, "not a frame")?;
                return Ok(true);
            }
            self.frame += 1;
            self.frame_start = raw.consumed;
            self.streamed = false;
            self.state = match self.format {
                Format::Zstd => State::Zstd(zstd::stream::read::Decoder::with_buffer(raw)?.single_frame()),
                Format::Gzip => State::Gzip(flate2::bufread::GzDecoder::new(raw)),
            };
            return Ok(true);
        }
    }

    /// Whether `head` (the next bytes, up to 8) starts a frame: its whole
    /// magic number is there.
    fn is_frame_start(&self, head: &[u8]) -> bool {
        let magic_len = match self.format {
            Format::Gzip => GZIP_MAGIC.len(),
            Format::Zstd => ZSTD_MAGIC.len(),
        };
        head.len() >= magic_len && self.format.starts_frame(head)
    }

    /// Reads past bytes that are not a frame, up to the next frame's magic
    /// or the end, and reports them.
    fn skip_garbage(&mut self, mut raw: Lookahead<R>, what: &str) -> io::Result<()> {
        let start = raw.consumed;
        raw.consume(1);
        self.skip_to_frame(&mut raw)?;
        let len = raw.consumed - start;
        let name = self.format.frame_name();
        self.damage = Some(format!(
            "{len} bytes at byte {start} are {what}, after {name} {} (read past; reading resumes at the next {name})",
            self.frame
        ));
        self.state = State::Between(raw);
        Ok(())
    }

    /// Reads past bytes up to the next frame's magic, or the end.
    fn skip_to_frame(&mut self, raw: &mut Lookahead<R>) -> io::Result<()> {
        loop {
            let head = raw.peek(8)?;
            if head.is_empty() || self.is_frame_start(head) {
                return Ok(());
            }
            raw.consume(1);
        }
    }

    /// Handles what decoding a frame into `out` gave. True when `out` holds
    /// bytes to hand out or a damage is to be reported.
    fn after_decode(&mut self, result: io::Result<Decoded>) -> io::Result<bool> {
        match result {
            Ok(Decoded::Held) => {
                // Over the hold: handed out as decoded from here on.
                self.streamed = true;
                Ok(true)
            }
            Ok(Decoded::Streamed) => Ok(!self.out.is_empty()),
            Ok(Decoded::Ended) => {
                let raw = match std::mem::replace(&mut self.state, State::Gone) {
                    State::Zstd(dec) => dec.finish(),
                    State::Gzip(dec) => dec.into_inner(),
                    other => {
                        self.state = other;
                        return Ok(!self.out.is_empty());
                    }
                };
                self.state = State::Between(raw);
                Ok(!self.out.is_empty())
            }
            Err(e) => {
                let lines = memchr::memchr_iter(b'\n', &self.out).count();
                let name = self.format.frame_name();
                let lost = match self.streamed {
                    false if lines == 1 => "the one line it gave before the damage is dropped with it".into(),
                    false => format!("the {lines} lines it gave before the damage are dropped with it"),
                    true => "lines it gave before the damage were passed on (it is longer than can be held)".into(),
                };
                self.damage = Some(format!(
                    "{name} {} at byte {} is damaged ({e}): {lost}; with --skip-bad, reading goes on at the next {name}",
                    self.frame, self.frame_start
                ));
                self.out.clear();
                let mut raw = match std::mem::replace(&mut self.state, State::Gone) {
                    State::Zstd(dec) => dec.finish(),
                    State::Gzip(dec) => dec.into_inner(),
                    _ => return Ok(true),
                };
                // Past the damaged frame's magic, to the next frame.
                if raw.consumed == self.frame_start {
                    raw.consume(1);
                }
                self.skip_to_frame(&mut raw)?;
                self.state = State::Between(raw);
                Ok(true)
            }
        }
    }
}

/// How far one call of [`decode_into`] went.
enum Decoded {
    /// The frame ended; `out` holds the rest of it.
    Ended,
    /// The frame is longer than [`FRAME_HOLD_BYTES`]: `out` holds the first
    /// part of it, handed out before its end.
    Held,
    /// A streamed frame: `out` holds its next part.
    Streamed,
}

/// Decoded bytes handed out at a time from a frame too long to hold.
const STREAM_BYTES: usize = 1 << 20;

/// Decodes from `dec` into `out`: to the frame's end or the hold, or (for a
/// frame already streamed) [`STREAM_BYTES`]' worth. Decoded straight into
/// `out` (`read_to_end` fills its spare room without zeroing it first).
fn decode_into(dec: &mut impl Read, out: &mut Vec<u8>, streamed: bool) -> io::Result<Decoded> {
    let limit = if streamed { STREAM_BYTES } else { FRAME_HOLD_BYTES };
    let wanted = limit.saturating_sub(out.len()) as u64;
    let n = dec.take(wanted).read_to_end(out)?;
    Ok(match (n as u64) < wanted {
        true => Decoded::Ended,
        false if streamed => Decoded::Streamed,
        false => Decoded::Held,
    })
}

impl<R: Read> Read for FramedReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        read_from_buffer(self, out)
    }
}

impl<R: Read> BufRead for FramedReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.out.len() {
            self.refill()?;
            if let Some(damage) = self.damage.take() {
                return Err(io::Error::other(DamagedFrame(damage)));
            }
        }
        Ok(&self.out[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.out.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(n: std::ops::Range<usize>) -> Vec<u8> {
        n.map(|i| format!("{{\"id\":{i},\"text\":\"line {i}\"}}\n")).collect::<String>().into_bytes()
    }

    fn zstd_frame(data: &[u8]) -> Vec<u8> {
        zstd::stream::encode_all(data, 3).unwrap()
    }

    fn gzip_member(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn skippable(payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0x53, 0x2a, 0x4d, 0x18];
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(payload);
        out
    }

    /// Reads `file` to the end: the bytes and the damages, in order.
    fn read_all(file: &[u8]) -> (Vec<u8>, Vec<String>) {
        let format = format_of(file).unwrap();
        let mut reader = FramedReader::new(io::BufReader::with_capacity(7, file), format);
        let (mut out, mut damages) = (Vec::new(), Vec::new());
        loop {
            match reader.fill_buf() {
                Ok([]) => return (out, damages),
                Ok(buf) => {
                    let n = buf.len();
                    out.extend_from_slice(buf);
                    reader.consume(n);
                }
                Err(e) => damages.push(damaged_frame(&e).expect("only damages").to_string()),
            }
        }
    }

    #[test]
    fn skippable_frames_are_skipped_wherever_they_are() {
        let mut file = skippable(b"pzstd metadata");
        file.extend(zstd_frame(&lines(0..10)));
        file.extend(skippable(&[0u8; 300]));
        file.extend(zstd_frame(&lines(10..20)));
        file.extend(skippable(b""));
        assert_eq!(read_all(&file), (lines(0..20), vec![]));
    }

    #[test]
    fn a_damaged_frame_costs_its_own_lines_only() {
        let (a, b, c) = (zstd_frame(&lines(0..30)), zstd_frame(&lines(30..60)), zstd_frame(&lines(60..90)));
        let mut file = [a.clone(), b.clone(), c].concat();
        file[a.len() + b.len() / 2] ^= 0xff;
        let (out, damages) = read_all(&file);
        assert_eq!(out, [lines(0..30), lines(60..90)].concat());
        assert_eq!(damages.len(), 1, "{damages:?}");
        assert!(damages[0].starts_with(&format!("zstd frame 2 at byte {} is damaged", a.len())), "{damages:?}");
        // A damaged gzip member too, found by its CRC.
        let (a, b, c) = (gzip_member(&lines(0..30)), gzip_member(&lines(30..60)), gzip_member(&lines(60..90)));
        let mut file = [a.clone(), b.clone(), c].concat();
        file[a.len() + b.len() - 6] ^= 0x01;
        let (out, damages) = read_all(&file);
        assert_eq!(out, [lines(0..30), lines(60..90)].concat());
        assert_eq!(damages.len(), 1, "{damages:?}");
        assert!(damages[0].starts_with(&format!("gzip member 2 at byte {} is damaged", a.len())), "{damages:?}");
        assert!(damages[0].contains("the 30 lines it gave"), "{damages:?}");
    }

    #[test]
    fn trailing_garbage_is_reported_not_read() {
        let mut file = gzip_member(&lines(0..5));
        file.extend_from_slice(b"garbage\n");
        let (out, damages) = read_all(&file);
        assert_eq!(out, lines(0..5));
        assert_eq!(damages.len(), 1);
        assert!(damages[0].starts_with("8 bytes at byte"), "{damages:?}");
    }

    proptest::proptest! {
        // Whatever byte is flipped, reading ends, and the frames before the
        // damaged one are read whole.
        #[test]
        fn any_flipped_byte_ends_and_spares_the_frames_before(at in 0usize..100_000, bit in 0u8..8, gzip: bool) {
            let parts: Vec<Vec<u8>> = (0..4)
                .map(|k| if gzip { gzip_member(&lines(k * 20..k * 20 + 20)) } else { zstd_frame(&lines(k * 20..k * 20 + 20)) })
                .collect();
            let mut file = parts.concat();
            let at = at % file.len();
            file[at] ^= 1 << bit;
            if format_of(&file).is_none() {
                return Ok(());
            }
            let (out, _) = read_all(&file);
            let mut start = 0;
            for (k, part) in parts.iter().enumerate() {
                if start + part.len() > at {
                    break;
                }
                let text = lines(k * 20..k * 20 + 20);
                proptest::prop_assert!(out.starts_with(&lines(0..k * 20 + 20)), "frame {} lost for a flip at {}: {}", k, at, text.len());
                start += part.len();
            }
        }
    }
}
