//! Just enough of the ZIP format (PKWARE's APPNOTE) to write an OpenDocument file as a
//! stream: entries are written one after the other; a stored entry whose content is known
//! carries its CRC and sizes in its header, a deflated one is compressed as it comes and
//! followed by a data descriptor (flag bit 3), so nothing is ever seeked back to; the central
//! directory closes the archive. Sizes stay under 4 GiB (no ZIP64): an export that would
//! pass it fails instead of writing a broken file.

use std::io::{self, Write};

use flate2::Compression;
use flate2::write::DeflateEncoder;

const LOCAL_HEADER: u32 = 0x0403_4b50;
const DATA_DESCRIPTOR: u32 = 0x0807_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_CENTRAL: u32 = 0x0605_4b50;
/// Version 2.0: deflate and data descriptors.
const VERSION: u16 = 20;
const FLAG_DESCRIPTOR: u16 = 1 << 3;
const FLAG_UTF8: u16 = 1 << 11;
const STORED: u16 = 0;
const DEFLATED: u16 = 8;
/// 1 January 1980, 00:00, the first date ZIP can tell (the date is in the content).
const DOS_DATE: u16 = (1 << 5) | 1;

struct Entry {
    name: String,
    flags: u16,
    method: u16,
    crc: u32,
    compressed: u32,
    size: u32,
    offset: u32,
}

/// The archive being written; every method returns the bytes to send next.
pub struct ZipStream {
    written: u64,
    entries: Vec<Entry>,
    open: Option<OpenEntry>,
}

struct OpenEntry {
    name: String,
    offset: u32,
    crc: crc32fast::Hasher,
    size: u64,
    compressed: u64,
    encoder: DeflateEncoder<Vec<u8>>,
}

fn too_large() -> io::Error {
    io::Error::other("the export passes 4 GiB, more than a ZIP without ZIP64 holds")
}

fn u32_of(n: u64) -> io::Result<u32> {
    u32::try_from(n).map_err(|_| too_large())
}

impl ZipStream {
    pub fn new() -> Self {
        Self {
            written: 0,
            entries: Vec::new(),
            open: None,
        }
    }

    fn out(&mut self, bytes: Vec<u8>) -> Vec<u8> {
        self.written += bytes.len() as u64;
        bytes
    }

    fn local_header(
        name: &str,
        flags: u16,
        method: u16,
        crc: u32,
        compressed: u32,
        size: u32,
    ) -> Vec<u8> {
        let mut h = Vec::with_capacity(30 + name.len());
        h.extend_from_slice(&LOCAL_HEADER.to_le_bytes());
        h.extend_from_slice(&VERSION.to_le_bytes());
        h.extend_from_slice(&flags.to_le_bytes());
        h.extend_from_slice(&method.to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes()); // time
        h.extend_from_slice(&DOS_DATE.to_le_bytes());
        h.extend_from_slice(&crc.to_le_bytes());
        h.extend_from_slice(&compressed.to_le_bytes());
        h.extend_from_slice(&size.to_le_bytes());
        h.extend_from_slice(&(name.len() as u16).to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes()); // no extra field
        h.extend_from_slice(name.as_bytes());
        h
    }

    /// A whole entry stored as is (ODF's `mimetype` must be the first one, stored).
    pub fn stored(&mut self, name: &str, data: &[u8]) -> io::Result<Vec<u8>> {
        let offset = u32_of(self.written)?;
        let size = u32_of(data.len() as u64)?;
        let crc = crc32fast::hash(data);
        let mut bytes = Self::local_header(name, FLAG_UTF8, STORED, crc, size, size);
        bytes.extend_from_slice(data);
        self.entries.push(Entry {
            name: name.to_owned(),
            flags: FLAG_UTF8,
            method: STORED,
            crc,
            compressed: size,
            size,
            offset,
        });
        Ok(self.out(bytes))
    }

    /// Opens a deflated entry whose content comes in parts ([`Self::write`]).
    pub fn begin(&mut self, name: &str) -> io::Result<Vec<u8>> {
        let offset = u32_of(self.written)?;
        let header = Self::local_header(name, FLAG_UTF8 | FLAG_DESCRIPTOR, DEFLATED, 0, 0, 0);
        self.open = Some(OpenEntry {
            name: name.to_owned(),
            offset,
            crc: crc32fast::Hasher::new(),
            size: 0,
            compressed: 0,
            encoder: DeflateEncoder::new(Vec::new(), Compression::fast()),
        });
        Ok(self.out(header))
    }

    /// Compresses a part of the open entry; returns what the compressor let out so far.
    pub fn write(&mut self, data: &[u8]) -> io::Result<Vec<u8>> {
        let open = self
            .open
            .as_mut()
            .ok_or_else(|| io::Error::other("no entry is open"))?;
        open.crc.update(data);
        open.size += data.len() as u64;
        open.encoder.write_all(data)?;
        let produced = std::mem::take(open.encoder.get_mut());
        open.compressed += produced.len() as u64;
        Ok(self.out(produced))
    }

    /// Ends the open entry: the rest of the compressed data and its descriptor.
    pub fn end(&mut self) -> io::Result<Vec<u8>> {
        let open = self
            .open
            .take()
            .ok_or_else(|| io::Error::other("no entry is open"))?;
        let mut bytes = open.encoder.finish()?;
        let compressed = u32_of(open.compressed + bytes.len() as u64)?;
        let size = u32_of(open.size)?;
        let crc = open.crc.finalize();
        bytes.extend_from_slice(&DATA_DESCRIPTOR.to_le_bytes());
        bytes.extend_from_slice(&crc.to_le_bytes());
        bytes.extend_from_slice(&compressed.to_le_bytes());
        bytes.extend_from_slice(&size.to_le_bytes());
        self.entries.push(Entry {
            name: open.name,
            flags: FLAG_UTF8 | FLAG_DESCRIPTOR,
            method: DEFLATED,
            crc,
            compressed,
            size,
            offset: open.offset,
        });
        Ok(self.out(bytes))
    }

    /// The central directory and its end record.
    pub fn finish(&mut self) -> io::Result<Vec<u8>> {
        let start = u32_of(self.written)?;
        let mut bytes = Vec::new();
        for e in &self.entries {
            bytes.extend_from_slice(&CENTRAL_HEADER.to_le_bytes());
            bytes.extend_from_slice(&VERSION.to_le_bytes()); // made by
            bytes.extend_from_slice(&VERSION.to_le_bytes()); // needed
            bytes.extend_from_slice(&e.flags.to_le_bytes());
            bytes.extend_from_slice(&e.method.to_le_bytes());
            bytes.extend_from_slice(&0u16.to_le_bytes());
            bytes.extend_from_slice(&DOS_DATE.to_le_bytes());
            bytes.extend_from_slice(&e.crc.to_le_bytes());
            bytes.extend_from_slice(&e.compressed.to_le_bytes());
            bytes.extend_from_slice(&e.size.to_le_bytes());
            bytes.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            bytes.extend_from_slice(&0u16.to_le_bytes()); // extra
            bytes.extend_from_slice(&0u16.to_le_bytes()); // comment
            bytes.extend_from_slice(&0u16.to_le_bytes()); // disk
            bytes.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
            bytes.extend_from_slice(&0u32.to_le_bytes()); // external attributes
            bytes.extend_from_slice(&e.offset.to_le_bytes());
            bytes.extend_from_slice(e.name.as_bytes());
        }
        let size = u32_of(bytes.len() as u64)?;
        let count = u16::try_from(self.entries.len()).map_err(|_| too_large())?;
        bytes.extend_from_slice(&END_OF_CENTRAL.to_le_bytes());
        bytes.extend_from_slice(&0u16.to_le_bytes());
        bytes.extend_from_slice(&0u16.to_le_bytes());
        bytes.extend_from_slice(&count.to_le_bytes());
        bytes.extend_from_slice(&count.to_le_bytes());
        bytes.extend_from_slice(&size.to_le_bytes());
        bytes.extend_from_slice(&start.to_le_bytes());
        bytes.extend_from_slice(&0u16.to_le_bytes()); // comment
        Ok(self.out(bytes))
    }
}
