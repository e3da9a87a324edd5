//! The keyring's slots in a file of the data directory (`<data>/keyring`, 0600): the
//! header, then the slots one after the other, overwritten in place; a slot's number is
//! its place in the file. A live slot is found through an index of every live pseudonym,
//! read once at open (40 bytes or so a citizen).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use super::{
    erased_slot, pseudonym_of, Exported, KeyringError, Pseudonym, Slots, ERASED, ERASE_AFTER_REPLIES, FREE, GROW,
    HEADER, LIVE, SLOT,
};

struct Index {
    /// Pseudonym -> its live slot.
    live: HashMap<Pseudonym, u32>,
    /// Slots waiting for their last reply ([`ERASE_AFTER_REPLIES`]), a few at most: found
    /// without reading every slot (a million of them at start, and at every erasure).
    awaiting: HashMap<u32, Pseudonym>,
    /// Slots handed out (the next new one is this).
    slots: u32,
    /// Slots the file holds, handed out or still zeros (see [`GROW`]).
    capacity: u32,
}

/// A keyring file.
pub struct FileSlots {
    path: PathBuf,
    file: File,
    /// Taken to create, destroy or mark a slot.
    index: Mutex<Index>,
    /// A slot was written since the last [`Slots::sync`].
    dirty: AtomicBool,
}

fn offset(slot: u32) -> u64 {
    HEADER as u64 + slot as u64 * SLOT as u64
}

impl FileSlots {
    /// Opens the file at `path`, created (0600, empty) when absent.
    pub fn open(path: &Path) -> Result<FileSlots, KeyringError> {
        let io = |source| KeyringError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = {
            use std::os::unix::fs::OpenOptionsExt;
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(path)
                .map_err(io)?
        };
        // The index: every live slot's pseudonym, read once. Slots after the last one
        // written are zeros, grown ahead (`GROW`).
        let len = file.metadata().map_err(io)?.len();
        let capacity = (len.saturating_sub(HEADER as u64) / SLOT as u64) as u32;
        let mut slots = 0;
        // Sized once: growing it would hold the old table and the new together.
        let mut live = HashMap::with_capacity(capacity as usize);
        let mut awaiting = HashMap::new();
        if len >= HEADER as u64 {
            let mut reader = std::io::BufReader::with_capacity(1 << 16, &file);
            std::io::Seek::seek(&mut reader, std::io::SeekFrom::Start(HEADER as u64)).map_err(io)?;
            let mut raw = [0u8; SLOT];
            for slot in 0..capacity {
                reader.read_exact(&mut raw).map_err(io)?;
                if raw[0] != FREE {
                    slots = slot + 1;
                }
                // A slot waiting for its last reply still opens by its number, but no
                // longer names its citizen: one who writes again gets a new key.
                if raw[0] == LIVE {
                    live.insert(pseudonym_of(&raw), slot);
                }
                if raw[0] == ERASE_AFTER_REPLIES {
                    awaiting.insert(slot, pseudonym_of(&raw));
                }
            }
        }
        Ok(FileSlots {
            path: path.to_path_buf(),
            file,
            index: Mutex::new(Index {
                live,
                awaiting,
                slots,
                capacity,
            }),
            dirty: AtomicBool::new(false),
        })
    }

    /// The header and every slot handed out, as bytes (`sportello migrate` copies them).
    pub fn export(&self) -> Result<Exported, KeyringError> {
        let mut header = [0u8; HEADER];
        self.file
            .read_exact_at(&mut header, 0)
            .map_err(|_| KeyringError::NotAKeyring(self.path.clone()))?;
        let slots = self.index().slots;
        let all = (0..slots)
            .map(|slot| Ok((slot, self.read_raw(slots, slot)?)))
            .collect::<Result<_, KeyringError>>()?;
        Ok((header, all))
    }

    fn io(&self, source: std::io::Error) -> KeyringError {
        KeyringError::Io {
            path: self.path.clone(),
            source,
        }
    }

    fn index(&self) -> std::sync::MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot's bytes, for a caller that holds the index's lock (`slots` read under it).
    fn read_raw(&self, slots: u32, slot: u32) -> Result<[u8; SLOT], KeyringError> {
        if slot >= slots {
            return Err(KeyringError::NoSlot(slot));
        }
        let mut raw = [0u8; SLOT];
        self.file
            .read_exact_at(&mut raw, offset(slot))
            .map_err(|e| self.io(e))?;
        Ok(raw)
    }

    /// Calls `f` with every slot handed out, in order, read 256 at a time.
    fn each_slot(&self, mut f: impl FnMut(u32, &[u8; SLOT])) -> Result<(), KeyringError> {
        const CHUNK: u32 = 256;
        let slots = self.index().slots;
        let mut buffer = vec![0u8; CHUNK as usize * SLOT];
        let mut first = 0;
        while first < slots {
            let n = CHUNK.min(slots - first);
            let bytes = &mut buffer[..n as usize * SLOT];
            self.file.read_exact_at(bytes, offset(first)).map_err(|e| self.io(e))?;
            for (i, raw) in bytes.chunks_exact(SLOT).enumerate() {
                let raw: &[u8; SLOT] = raw.try_into().expect("chunks of SLOT bytes");
                f(first + i as u32, raw);
            }
            first += n;
        }
        Ok(())
    }

    fn write(&self, bytes: &[u8], at: u64) -> Result<(), KeyringError> {
        self.file.write_all_at(bytes, at).map_err(|e| self.io(e))?;
        self.dirty.store(true, Ordering::SeqCst);
        Ok(())
    }
}

impl Drop for FileSlots {
    /// A keyring dropped without a last sync (a command that never flushed) still leaves
    /// its slots on the disk.
    fn drop(&mut self) {
        let _ = self.sync();
    }
}

impl Slots for FileSlots {
    fn place(&self) -> PathBuf {
        self.path.clone()
    }

    fn header(&self, fresh: &[u8; HEADER]) -> Result<[u8; HEADER], KeyringError> {
        let len = self.file.metadata().map_err(|e| self.io(e))?.len();
        if len == 0 {
            self.file.write_all_at(fresh, 0).map_err(|e| self.io(e))?;
            self.file.sync_all().map_err(|e| self.io(e))?;
            return Ok(*fresh);
        }
        let mut header = [0u8; HEADER];
        self.file
            .read_exact_at(&mut header, 0)
            .map_err(|_| KeyringError::NotAKeyring(self.path.clone()))?;
        Ok(header)
    }

    fn live(&self, pseudonym: &Pseudonym) -> Result<Option<u32>, KeyringError> {
        Ok(self.index().live.get(pseudonym).copied())
    }

    fn create(&self, pseudonym: &Pseudonym, raw: &[u8; SLOT]) -> Result<(u32, bool), KeyringError> {
        let mut index = self.index();
        if let Some(slot) = index.live.get(pseudonym) {
            return Ok((*slot, false));
        }
        let slot = index.slots;
        if slot >= index.capacity {
            let zeros = vec![0u8; GROW as usize * SLOT];
            self.write(&zeros, offset(index.capacity))?;
            index.capacity += GROW;
        }
        self.write(raw, offset(slot))?;
        index.slots += 1;
        index.live.insert(*pseudonym, slot);
        Ok((slot, true))
    }

    fn read(&self, slot: u32) -> Result<[u8; SLOT], KeyringError> {
        let slots = self.index().slots;
        self.read_raw(slots, slot)
    }

    fn destroy(&self, slot: u32) -> Result<(), KeyringError> {
        let mut index = self.index();
        let raw = self.read_raw(index.slots, slot)?;
        self.write(&erased_slot(&raw), offset(slot))?;
        let pseudonym = pseudonym_of(&raw);
        if index.live.get(&pseudonym) == Some(&slot) {
            index.live.remove(&pseudonym);
        }
        index.awaiting.remove(&slot);
        Ok(())
    }

    fn mark(&self, slot: u32) -> Result<(), KeyringError> {
        let mut index = self.index();
        let raw = self.read_raw(index.slots, slot)?;
        if raw[0] != LIVE {
            return Ok(());
        }
        let pseudonym = pseudonym_of(&raw);
        if index.live.get(&pseudonym) == Some(&slot) {
            index.live.remove(&pseudonym);
        }
        self.write(&[ERASE_AFTER_REPLIES], offset(slot))?;
        index.awaiting.insert(slot, pseudonym);
        Ok(())
    }

    fn scan(&self) -> Result<Vec<(u32, Pseudonym, u8)>, KeyringError> {
        let mut out = Vec::new();
        self.each_slot(|slot, raw| out.push((slot, pseudonym_of(raw), raw[0])))?;
        Ok(out)
    }

    fn in_state(&self, state: u8) -> Result<Vec<(u32, Pseudonym)>, KeyringError> {
        if state == ERASE_AFTER_REPLIES {
            let mut out: Vec<(u32, Pseudonym)> = self.index().awaiting.iter().map(|(s, p)| (*s, *p)).collect();
            out.sort_unstable();
            return Ok(out);
        }
        let mut out = Vec::new();
        self.each_slot(|slot, raw| {
            if raw[0] == state {
                out.push((slot, pseudonym_of(raw)));
            }
        })?;
        Ok(out)
    }

    fn counts(&self) -> Result<(usize, usize), KeyringError> {
        let (mut live, mut erased) = (0, 0);
        self.each_slot(|_, raw| match raw[0] {
            LIVE | ERASE_AFTER_REPLIES => live += 1,
            ERASED => erased += 1,
            _ => {}
        })?;
        Ok((live, erased))
    }

    fn marked(&self, pseudonym: &Pseudonym) -> Result<Option<u32>, KeyringError> {
        Ok(self
            .index()
            .awaiting
            .iter()
            .filter(|(_, p)| *p == pseudonym)
            .map(|(s, _)| *s)
            .min())
    }

    fn count(&self) -> Result<u32, KeyringError> {
        Ok(self.index().slots)
    }

    fn is_dirty(&self) -> bool {
        self.dirty.load(Ordering::SeqCst)
    }

    fn sync(&self) -> Result<(), KeyringError> {
        if self.dirty.swap(false, Ordering::SeqCst) {
            if let Err(e) = self.file.sync_data() {
                self.dirty.store(true, Ordering::SeqCst);
                return Err(self.io(e));
            }
        }
        Ok(())
    }

    /// Into a new file, synced, then moved over this one.
    fn rewrap(
        self: Box<Self>,
        header: &[u8; HEADER],
        rewrap: &mut dyn FnMut(u32, [u8; SLOT]) -> Result<[u8; SLOT], KeyringError>,
    ) -> Result<Box<dyn Slots>, KeyringError> {
        let fresh = self.path.with_extension("rotating");
        let io = |source| KeyringError::Io {
            path: fresh.clone(),
            source,
        };
        let mut out = crate::storage::create_private(&fresh).map_err(io)?;
        let mut buffer = Vec::with_capacity(HEADER + SLOT * 1024);
        buffer.extend_from_slice(header);
        let slots = self.index().slots;
        for slot in 0..slots {
            let raw = self.read_raw(slots, slot)?;
            buffer.extend_from_slice(&rewrap(slot, raw)?);
            if buffer.len() >= SLOT * 1024 {
                out.write_all(&buffer).map_err(io)?;
                buffer.clear();
            }
        }
        out.write_all(&buffer).map_err(io)?;
        out.sync_all().map_err(io)?;
        drop(out);
        std::fs::rename(&fresh, &self.path).map_err(|e| self.io(e))?;
        if let Some(dir) = self.path.parent() {
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(Box::new(FileSlots::open(&self.path)?))
    }
}
