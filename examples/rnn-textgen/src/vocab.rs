//! The characters a model knows: the sorted, distinct characters of its corpus, each an index
//! of the network's input and output.

use serde::{Deserialize, Serialize};

/// The characters the model knows, in a fixed order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vocab {
    /// Sorted and without repeats; a character's index is its position here.
    pub chars: Vec<char>,
}

impl Vocab {
    /// Every distinct character of `text`.
    pub fn of(text: &str) -> Vocab {
        let mut chars: Vec<char> = text.chars().collect();
        chars.sort_unstable();
        chars.dedup();
        Vocab { chars }
    }
    /// How many characters it has: the size of the network's input and output.
    pub fn len(&self) -> usize {
        self.chars.len()
    }
    /// Whether it has no characters at all.
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }
    /// The index of `c`, or `None` if `c` is not in the vocabulary.
    pub fn index(&self, c: char) -> Option<usize> {
        self.chars.binary_search(&c).ok()
    }
    /// `text` as indices; characters not in the vocabulary are left out.
    pub fn encode(&self, text: &str) -> Vec<usize> {
        text.chars().filter_map(|c| self.index(c)).collect()
    }
}
