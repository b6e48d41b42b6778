//! Human output: aligned text tables and TAO amounts; and parsing of TAO amounts.

use crate::{CliError, Result};
use subtensor_client::runtime::RAO_PER_TAO;

/// A text table with a header row, printed with aligned columns.
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new(headers: &[&str]) -> Self {
        Self { headers: headers.iter().map(|h| (*h).to_owned()).collect(), rows: Vec::new() }
    }

    /// Appends a row (as many cells as headers).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text, one line per row, columns separated by two spaces.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let padded: Vec<String> =
                cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
            padded.join("  ").trim_end().to_owned()
        };
        let mut out = vec![line(&self.headers)];
        out.push(widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "));
        out.extend(self.rows.iter().map(|r| line(r)));
        out.join("\n")
    }

    /// Prints the table to stdout.
    pub fn print(&self) {
        println!("{}", self.render());
    }
}

/// `rao` as TAO with the τ sign, without trailing zeros past the first decimal: `1.5 τ`.
pub fn tao(rao: u64) -> String {
    let whole = rao / RAO_PER_TAO;
    let frac = format!("{:09}", rao % RAO_PER_TAO);
    let frac = frac.trim_end_matches('0');
    let frac = if frac.is_empty() { "0" } else { frac };
    format!("{whole}.{frac} τ")
}

/// Parses a TAO amount ("1", "0.5", "1000.000000001") into rao, exactly.
pub fn parse_tao(text: &str) -> Result<u64> {
    let bad =
        || CliError::Usage(format!("invalid amount {text:?}: give TAO with up to 9 decimals"));
    let text = text.trim();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if (whole.is_empty() && frac.is_empty())
        || frac.len() > 9
        || !whole.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: u64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| bad())? };
    let frac: u64 = format!("{frac:0<9}").parse().map_err(|_| bad())?;
    whole.checked_mul(RAO_PER_TAO).and_then(|r| r.checked_add(frac)).ok_or_else(bad)
}

/// A u16 proportion as a fraction with 4 decimals (`32767` → `0.5000`).
pub fn fraction(value: u16) -> String {
    format!("{:.4}", f64::from(value) / f64::from(u16::MAX))
}

/// An SS58 address shortened for tables: `5GrwvaEF…GKutQY`.
pub fn short(ss58: &str) -> String {
    let chars: Vec<char> = ss58.chars().collect();
    if chars.len() <= 16 {
        return ss58.to_owned();
    }
    let head: String = chars.iter().take(8).collect();
    let tail: String = chars.iter().skip(chars.len().saturating_sub(6)).collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn tao_amounts_parse_exactly_and_print_short() {
        assert_eq!(parse_tao("1").unwrap(), RAO_PER_TAO);
        assert_eq!(parse_tao("0.5").unwrap(), RAO_PER_TAO / 2);
        assert_eq!(parse_tao(".000000001").unwrap(), 1);
        assert_eq!(parse_tao("1000.25").unwrap(), 1_000_250_000_000);
        for bad in ["", ".", "1.0000000001", "-1", "1e3", "abc", "99999999999999999999"] {
            assert!(parse_tao(bad).is_err(), "{bad}");
        }
        assert_eq!(tao(1_500_000_000), "1.5 τ");
        assert_eq!(tao(1_000_000_000_000), "1000.0 τ");
        assert_eq!(tao(500_000), "0.0005 τ");
    }

    #[test]
    fn tables_align_columns() {
        let mut t = Table::new(&["A", "LONG HEADER"]);
        t.row(vec!["wide cell".into(), "x".into()]);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "A          LONG HEADER");
        assert_eq!(lines[2], "wide cell  x");
        assert_eq!(fraction(u16::MAX), "1.0000");
        assert_eq!(short("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"), "5GrwvaEF…GKutQY");
    }
}
