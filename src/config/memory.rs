//! `memory = "256MiB"`: how much memory the service is given, and what its caches and
//! queues may hold as a result. Everything that grows with the audience is read a page at
//! a time; what remains to size is what is kept for speed (sled's page cache, opened
//! citizen keys), how many broadcast requests are in flight, and how many threads run
//! blocking store calls (each keeps its own allocator heap). README.md, "Memory", has the
//! measured trade-off.

/// The default: a small VM's share (BENCHMARKS.md, "A region on one machine").
pub const DEFAULT_BYTES: u64 = 256 * MIB;
/// The least accepted: below it the fixed part (the binary, the moderation automata, the
/// runtime, the HTTP clients; about 60 MiB) leaves the caches nothing.
pub const MIN_BYTES: u64 = 128 * MIB;
const MIB: u64 = 1024 * 1024;

/// The memory the service is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    bytes: u64,
}

impl Default for Memory {
    fn default() -> Memory {
        Memory { bytes: DEFAULT_BYTES }
    }
}

impl Memory {
    /// Reads `256MiB`, `1GiB`, `512MB`, `2GB` or a number of bytes; at least [`MIN_BYTES`].
    pub fn parse(text: &str) -> Result<Memory, String> {
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (digits, unit) = t.split_at(split);
        let unit_bytes = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "kib" => 1024,
            "kb" => 1000,
            "mib" => MIB,
            "mb" => 1_000_000,
            "gib" => 1024 * MIB,
            "gb" => 1_000_000_000,
            _ => {
                return Err(format!(
                    "memory \"{text}\" is not a size such as \"256MiB\" or \"1GiB\""
                ))
            }
        };
        let n: u64 = digits
            .parse()
            .map_err(|_| format!("memory \"{text}\" is not a size such as \"256MiB\" or \"1GiB\""))?;
        let bytes = n.saturating_mul(unit_bytes);
        if bytes < MIN_BYTES {
            return Err(format!(
                "memory \"{text}\" is less than the least the service runs in, 128MiB"
            ));
        }
        Ok(Memory { bytes })
    }

    /// The whole, in bytes.
    pub fn bytes(self) -> u64 {
        self.bytes
    }

    /// sled's page cache, as sled counts it: an eighth of what is left over the fixed
    /// 128 MiB, so 16 MiB by default, at least 4 MiB. sled's nodes take about four times
    /// their count in the process (BENCHMARKS.md, "A region on one machine").
    pub fn sled_cache(self) -> u64 {
        ((self.bytes - MIN_BYTES) / 8).max(4 * MIB)
    }

    /// Citizen keys kept opened (a few hundred bytes each): 4,096 by default.
    pub fn opened_keys(self) -> usize {
        (self.bytes / (64 * 1024)) as usize
    }

    /// Broadcast requests in flight across every sending number at once (each holds a
    /// connection's buffers): 32 by default, whatever the number of comuni.
    pub fn broadcast_in_flight(self) -> usize {
        ((self.bytes / (8 * MIB)) as usize).clamp(16, 1024)
    }

    /// Threads for blocking store calls (tokio's default is 512): 32 by default. Each keeps
    /// an allocator arena and sled's thread caches: with a hundred comuni alerted at once,
    /// 64 threads and 64 requests in flight held 75 MiB more than 32 and 32.
    pub fn blocking_threads(self) -> usize {
        ((self.bytes / (8 * MIB)) as usize).clamp(16, 512)
    }
}

impl std::fmt::Display for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.bytes.is_multiple_of(1024 * MIB) {
            write!(f, "{}GiB", self.bytes / (1024 * MIB))
        } else if self.bytes.is_multiple_of(MIB) {
            write!(f, "{}MiB", self.bytes / MIB)
        } else {
            write!(f, "{} bytes", self.bytes)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_read_with_their_units() {
        assert_eq!(Memory::parse("256MiB").unwrap().bytes(), 256 * MIB);
        assert_eq!(Memory::parse(" 1GiB ").unwrap().bytes(), 1024 * MIB);
        assert_eq!(Memory::parse("512 MB").unwrap().bytes(), 512_000_000);
        assert_eq!(Memory::parse("2gb").unwrap().bytes(), 2_000_000_000);
        assert_eq!(Memory::parse("268435456").unwrap(), Memory::default());
        for bad in ["", "MiB", "12 parsecs", "-5MiB", "1.5GiB"] {
            assert!(Memory::parse(bad).unwrap_err().contains("is not a size"), "{bad}");
        }
        assert!(Memory::parse("64MiB").unwrap_err().contains("128MiB"));
        assert_eq!(Memory::parse("1GiB").unwrap().to_string(), "1GiB");
    }

    #[test]
    fn the_default_keeps_the_measured_sizes_and_more_memory_buys_larger_caches() {
        let d = Memory::default();
        assert_eq!(d.sled_cache(), 16 * MIB);
        assert_eq!(d.opened_keys(), 4096);
        assert_eq!(d.broadcast_in_flight(), 32);
        assert_eq!(d.blocking_threads(), 32);
        let least = Memory::parse("128MiB").unwrap();
        assert_eq!(least.sled_cache(), 4 * MIB);
        assert_eq!((least.broadcast_in_flight(), least.blocking_threads()), (16, 16));
        let big = Memory::parse("4GiB").unwrap();
        assert!(big.sled_cache() > d.sled_cache() && big.opened_keys() > d.opened_keys());
        assert!(big.broadcast_in_flight() <= 1024 && big.blocking_threads() <= 512);
    }
}
