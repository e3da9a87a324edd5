//! A byte trie with a value at each node, for the word classes of `words`: one walk along
//! a word finds every key it starts with.
//!
//! Must not: know what the values mean.

/// Nodes by index; the root is node 0. Each node: its children by byte, and its value.
#[derive(Debug, Clone)]
pub(super) struct Trie<V> {
    nodes: Vec<(Vec<(u8, u32)>, V)>,
}

impl<V: Default> Trie<V> {
    /// An empty trie (the root alone).
    pub(super) fn new() -> Trie<V> {
        Trie {
            nodes: vec![(Vec::new(), V::default())],
        }
    }

    /// The value at `key`'s node, created with its path when new.
    pub(super) fn insert(&mut self, key: &str) -> &mut V {
        let mut node = 0usize;
        for &b in key.as_bytes() {
            node = match self.nodes[node].0.iter().find(|(c, _)| *c == b) {
                Some(&(_, next)) => next as usize,
                None => {
                    self.nodes.push((Vec::new(), V::default()));
                    let next = self.nodes.len() - 1;
                    self.nodes[node].0.push((b, next as u32));
                    next
                }
            };
        }
        &mut self.nodes[node].1
    }

    /// The nodes along `key` from its first byte, as (bytes walked, value), until the
    /// trie has no node for the next byte.
    pub(super) fn walk<'a>(&'a self, key: &'a [u8]) -> impl Iterator<Item = (usize, &'a V)> + 'a {
        let mut node = 0usize;
        key.iter().enumerate().map_while(move |(i, &b)| {
            let &(_, next) = self.nodes[node].0.iter().find(|(c, _)| *c == b)?;
            node = next as usize;
            Some((i + 1, &self.nodes[node].1))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_walk_meets_every_key_a_word_starts_with() {
        let mut t: Trie<Vec<u8>> = Trie::new();
        t.insert("ladr").push(1);
        t.insert("la").push(2);
        t.insert("lupo").push(3);
        let met: Vec<(usize, Vec<u8>)> = t
            .walk(b"ladroni")
            .filter(|(_, v)| !v.is_empty())
            .map(|(n, v)| (n, v.clone()))
            .collect();
        assert_eq!(met, [(2, vec![2]), (4, vec![1])]);
        assert_eq!(t.walk(b"xyz").count(), 0);
    }
}
