//! Text corpora: documents read from a file or a directory tree, split deterministically into
//! training and held-out documents.

use crate::tokenizer::TextTokenizer;
use crate::{ModelError, Result};
use std::path::{Path, PathBuf};

/// Every `HELD_OUT_EVERY`-th document (index % 20 == 19) is held out.
const HELD_OUT_EVERY: usize = 20;

/// Documents to train on and to measure held-out loss on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Corpus {
    /// Training documents.
    pub train: Vec<String>,
    /// Held-out documents (every 20th document: index % 20 == 19).
    pub held_out: Vec<String>,
}

/// Splits one file's text into documents: on lines holding only `%` (the `fortune` format) if
/// there are any, else on blank lines (paragraphs). Leading and trailing blank lines and
/// trailing whitespace are trimmed; empty documents are dropped.
pub fn split_documents(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let fortune = lines.iter().any(|l| l.trim_end() == "%");
    let mut docs = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut flush = |current: &mut Vec<&str>| {
        let doc = current.join("\n");
        let doc = doc.trim_end();
        let doc = doc.trim_start_matches(['\n', '\r']);
        if !doc.trim().is_empty() {
            docs.push(doc.to_owned());
        }
        current.clear();
    };
    for line in lines {
        let separator = if fortune { line.trim_end() == "%" } else { line.trim().is_empty() };
        if separator {
            flush(&mut current);
        } else {
            current.push(line);
        }
    }
    flush(&mut current);
    docs
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| ModelError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| ModelError::io(dir, e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        // Symlinks (the fortune package's `*.u8` links) duplicate other files: skip them.
        let kind = entry.file_type().map_err(|e| ModelError::io(&path, e))?;
        if kind.is_symlink() {
            continue;
        }
        if kind.is_dir() {
            collect_files(&path, out)?;
        } else if kind.is_file() && path.extension().is_none_or(|e| e != "dat") {
            out.push(path);
        }
    }
    Ok(())
}

impl Corpus {
    /// Reads a corpus: one text file, or every file under a directory (recursively, in sorted
    /// path order), skipping hidden files, symlinks and `*.dat` files (`strfile` indexes), and
    /// skipping binary or non-UTF-8 files with a warning on stderr.
    pub fn load(path: &Path) -> Result<Self> {
        let meta = std::fs::metadata(path).map_err(|e| ModelError::io(path, e))?;
        let files = if meta.is_dir() {
            let mut files = Vec::new();
            collect_files(path, &mut files)?;
            files.sort();
            files
        } else {
            vec![path.to_path_buf()]
        };
        let mut docs = Vec::new();
        for file in &files {
            let bytes = std::fs::read(file).map_err(|e| ModelError::io(file, e))?;
            if bytes.contains(&0) {
                eprintln!("warning: skipping {}: binary file", file.display());
                continue;
            }
            match String::from_utf8(bytes) {
                Ok(text) => docs.extend(split_documents(&text)),
                Err(_) => eprintln!("warning: skipping {}: not UTF-8 text", file.display()),
            }
        }
        if docs.is_empty() {
            return Err(ModelError::Corpus(format!("no text documents in {}", path.display())));
        }
        Ok(Self::from_documents(docs))
    }

    /// Splits documents: index % 20 == 19 goes to `held_out`, the rest to `train`.
    pub fn from_documents(docs: Vec<String>) -> Self {
        let mut corpus = Self::default();
        for (i, doc) in docs.into_iter().enumerate() {
            if i % HELD_OUT_EVERY == HELD_OUT_EVERY.saturating_sub(1) {
                corpus.held_out.push(doc);
            } else {
                corpus.train.push(doc);
            }
        }
        corpus
    }

    /// Total UTF-8 bytes of all documents.
    pub fn bytes(&self) -> usize {
        self.train.iter().chain(&self.held_out).map(String::len).fold(0usize, usize::saturating_add)
    }

    /// The training documents as one token stream, each document followed by `<|endoftext|>`
    /// (or by the tokens of a blank line if the tokenizer has no such token).
    pub fn encode_train(&self, tok: &TextTokenizer) -> Result<Vec<u32>> {
        encode_joined(&self.train, tok)
    }

    /// The held-out documents as one token stream, joined like [`Self::encode_train`].
    pub fn encode_held_out(&self, tok: &TextTokenizer) -> Result<Vec<u32>> {
        encode_joined(&self.held_out, tok)
    }
}

fn encode_joined(docs: &[String], tok: &TextTokenizer) -> Result<Vec<u32>> {
    let separator = match tok.eot_id() {
        Some(id) => vec![id],
        None => tok.encode("\n\n")?,
    };
    let mut out = Vec::new();
    for ids in tok.encode_batch(docs)? {
        out.extend(ids);
        out.extend_from_slice(&separator);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_fortunes_and_paragraphs() {
        let fortunes = "A first one.\n  -- Someone\n%\n\tSecond\nline.\n%\n%\nThird.\n";
        assert_eq!(
            split_documents(fortunes),
            vec!["A first one.\n  -- Someone", "\tSecond\nline.", "Third."]
        );
        let prose = "Para one\nstill one.\n\n\nPara two.\n   \nPara three.";
        assert_eq!(
            split_documents(prose),
            vec!["Para one\nstill one.", "Para two.", "Para three."]
        );
    }

    #[test]
    fn held_out_every_twentieth() {
        let docs: Vec<String> = (0..45).map(|i| format!("doc {i}")).collect();
        let c = Corpus::from_documents(docs);
        assert_eq!(c.held_out, vec!["doc 19".to_owned(), "doc 39".to_owned()]);
        assert_eq!(c.train.len(), 43);
        assert_eq!(c.bytes(), (0..45).map(|i| format!("doc {i}").len()).sum::<usize>());
    }
}
