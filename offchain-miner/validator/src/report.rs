//! The per-epoch table the validator logs: uid, hotkey (short), EMA loss, score, zeroing
//! score, query count and failures, and the weight (u16 and share of the row).

use crate::{
    grid::{GridScore, GridScoring},
    scoring::UidScore,
    weights::WeightVector,
};
use std::{collections::BTreeMap, fmt::Write};

/// `5GrwvaEF…KutQY`: the first 8 and last 5 characters of an SS58 address.
pub fn short_hotkey(ss58: &str) -> String {
    let chars: Vec<char> = ss58.chars().collect();
    if chars.len() <= 14 {
        return ss58.to_owned();
    }
    let head: String = chars.iter().take(8).collect();
    let tail: String = chars.iter().skip(chars.len().saturating_sub(5)).collect();
    format!("{head}…{tail}")
}

/// The table, one line per scored uid (ascending), with a header line.
pub fn epoch_table(scores: &BTreeMap<u16, UidScore>, weights: Option<&WeightVector>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>5}  {:<14}  {:>8}  {:>11}  {:>11}  {:>7}  {:>6}  {:>7}",
        "uid", "hotkey", "loss", "score", "zeroing", "q/fail", "weight", "share"
    );
    for (uid, s) in scores {
        let (value, share) = match weights {
            Some(w) => (w.value_of(*uid).unwrap_or(0), w.share_of(*uid)),
            None => (0, 0.0),
        };
        let _ = writeln!(
            out,
            "{:>5}  {:<14}  {:>8.4}  {:>11.4e}  {:>11.4e}  {:>4}/{:<2}  {:>6}  {:>6.2}%",
            uid,
            short_hotkey(&s.hotkey),
            s.ema_loss,
            s.score,
            s.zeroing,
            s.queries,
            s.failures,
            value,
            share * 100.0
        );
    }
    out
}

/// The grid table at `block`: uid, hotkey, score (tokens/s, 0 when banned or unreliable),
/// scored speed, success rate, the challenges' verified/agreed/rejected/failed counts, the
/// organic (gateway) verified/rejected/failed counts, ban, and the weight.
pub fn grid_table(
    scores: &BTreeMap<u16, GridScore>,
    block: u64,
    params: &GridScoring,
    weights: Option<&WeightVector>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>5}  {:<14}  {:>8}  {:>8}  {:>7}  {:>15}  {:>13}  {:>10}  {:>6}  {:>7}",
        "uid",
        "hotkey",
        "score",
        "speed",
        "success",
        "ver/agr/rej/fail",
        "organic v/r/f",
        "banned",
        "weight",
        "share"
    );
    for (uid, s) in scores {
        let (value, share) = match weights {
            Some(w) => (w.value_of(*uid).unwrap_or(0), w.share_of(*uid)),
            None => (0, 0.0),
        };
        let banned = match s.banned_until {
            Some(until) if block < until => format!("< #{until}"),
            _ => "-".to_owned(),
        };
        let _ = writeln!(
            out,
            "{:>5}  {:<14}  {:>8.1}  {:>8.1}  {:>6.0}%  {:>15}  {:>13}  {:>10}  {:>6}  {:>6.2}%",
            uid,
            short_hotkey(&s.hotkey),
            s.score(block, params),
            s.speed(params).unwrap_or(0.0),
            s.success_rate() * 100.0,
            format!("{}/{}/{}/{}", s.verified, s.agreed, s.rejected, s.failed),
            format!("{}/{}/{}", s.organic_verified, s.organic_rejected, s.organic_failed),
            banned,
            value,
            share * 100.0
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_lists_scored_uids_with_their_weight() {
        assert_eq!(
            short_hotkey("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"),
            "5GrwvaEF…KutQY"
        );
        assert_eq!(short_hotkey("short"), "short");
        let mut scores = BTreeMap::new();
        let mut a = UidScore::new("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
        a.ema_loss = 3.5;
        a.queries = 4;
        scores.insert(3, a);
        scores.insert(7, UidScore::new("5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"));
        let w = WeightVector { uids: vec![3, 7], values: vec![65535, 21845] };
        let table = epoch_table(&scores, Some(&w));
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(
            lines[1].contains("5GrwvaEF…KutQY")
                && lines[1].contains("65535")
                && lines[1].contains("75.00%")
        );
        assert!(lines[1].contains("3.5000"));
        assert!(lines[2].contains("21845") && lines[2].contains("25.00%"));
    }

    #[test]
    fn grid_table_shows_organic_counts_apart() {
        let mut s = GridScore::new("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
        (s.verified, s.agreed, s.rejected, s.failed) = (5, 1, 0, 2);
        (s.organic_verified, s.organic_rejected, s.organic_failed) = (7, 3, 4);
        let scores: BTreeMap<u16, GridScore> = [(4, s)].into_iter().collect();
        let table = grid_table(&scores, 10, &GridScoring::default(), None);
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].contains("organic v/r/f"), "{table}");
        assert!(lines[1].contains("5/1/0/2") && lines[1].contains("7/3/4"), "{table}");
    }
}
