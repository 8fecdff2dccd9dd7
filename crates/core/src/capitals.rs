//! Amounts in Chinese capital numerals (大写金额), as printed on certificates and invoices:
//! `1,234,500.50 元` → `壹佰贰拾叁万肆仟伍佰元伍角`.
//!
//! The rules followed (the usual financial writing, 会计基础工作规范):
//! - digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟 within a group of four, groups 万 亿 万亿 亿亿;
//! - a run of zeros inside the number is written as one 零 (`1,005` → 壹仟零伍元), also across
//!   an empty group (`100,001,000` → 壹亿零壹仟元); zeros at the end of the yuan part are not;
//! - a whole amount ends in 元整; 角 without 分 ends in 角; 分 without 角 is 元零X分;
//! - an amount under one yuan has no yuan part (`0.05` → 伍分); zero is 零元整;
//! - a negative amount starts with 负.
use crate::Fen;

const DIGITS: [char; 10] = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];
const SMALL: [&str; 4] = ["", "拾", "佰", "仟"];
const GROUPS: [&str; 5] = ["", "万", "亿", "万亿", "亿亿"];

/// The capitals of a whole number of yuan (without 元); empty for 0.
fn yuan_capitals(mut n: u64) -> String {
    let mut groups = Vec::new();
    while n > 0 {
        groups.push((n % 10_000) as usize);
        n /= 10_000;
    }
    let mut out = String::new();
    let mut zero_pending = false;
    for (gi, &g) in groups.iter().enumerate().rev() {
        if g == 0 {
            zero_pending = !out.is_empty();
            continue;
        }
        if !out.is_empty() && (zero_pending || g < 1000) {
            out.push('零');
        }
        zero_pending = false;
        let digits = [g / 1000, g / 100 % 10, g / 10 % 10, g % 10];
        let mut inner_zero = false;
        let mut started = false;
        for (pos, &d) in digits.iter().enumerate() {
            if d == 0 {
                inner_zero = started;
                continue;
            }
            if inner_zero {
                out.push('零');
                inner_zero = false;
            }
            out.push(DIGITS[d]);
            out.push_str(SMALL[3 - pos]);
            started = true;
        }
        out.push_str(GROUPS[gi]);
    }
    out
}

/// The amount in Chinese capitals (see the module docs).
pub fn capitals(amount: Fen) -> String {
    let negative = amount.0 < 0;
    let fen = amount.0.unsigned_abs();
    let (yuan, jiao, f) = (fen / 100, (fen / 10 % 10) as usize, (fen % 10) as usize);
    let mut out = String::new();
    if negative {
        out.push('负');
    }
    if yuan == 0 && jiao == 0 && f == 0 {
        out.push_str("零元整");
        return out;
    }
    if yuan > 0 {
        out.push_str(&yuan_capitals(yuan));
        out.push('元');
    }
    match (jiao, f) {
        (0, 0) => out.push('整'),
        (j, 0) => {
            out.push(DIGITS[j]);
            out.push('角');
        }
        (0, f) => {
            if yuan > 0 {
                out.push('零');
            }
            out.push(DIGITS[f]);
            out.push('分');
        }
        (j, f) => {
            out.push(DIGITS[j]);
            out.push('角');
            out.push(DIGITS[f]);
            out.push('分');
        }
    }
    out
}

/// The amount in yuan with thousands separators and two decimals: `1,234,500.50`.
pub fn yuan_with_separators(amount: Fen) -> String {
    let fen = amount.0.unsigned_abs();
    let digits = (fen / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!(
        "{}{grouped}.{:02}",
        if amount.0 < 0 { "-" } else { "" },
        fen % 100
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(fen: i64) -> String {
        capitals(Fen(fen))
    }

    #[test]
    fn the_usual_cases() {
        assert_eq!(c(123_450_050), "壹佰贰拾叁万肆仟伍佰元伍角");
        assert_eq!(c(100_000), "壹仟元整");
        assert_eq!(c(100_005), "壹仟元零伍分");
        assert_eq!(c(100_055), "壹仟元伍角伍分");
        assert_eq!(c(0), "零元整");
        assert_eq!(c(5), "伍分");
        assert_eq!(c(50), "伍角");
        assert_eq!(c(100), "壹元整");
        assert_eq!(c(1_000), "壹拾元整");
        assert_eq!(c(-1_500), "负壹拾伍元整");
    }

    #[test]
    fn zeros_are_written_once() {
        assert_eq!(c(100_500), "壹仟零伍元整");
        assert_eq!(c(1_001_000), "壹万零壹拾元整");
        assert_eq!(c(1_000_100), "壹万零壹元整");
        assert_eq!(c(10_000_000), "壹拾万元整");
        assert_eq!(c(10_010_000), "壹拾万零壹佰元整");
        assert_eq!(c(10_000_100_000), "壹亿零壹仟元整");
        assert_eq!(c(10_000_000_000), "壹亿元整");
        assert_eq!(c(10_100_000_000), "壹亿零壹佰万元整");
        assert_eq!(c(11_000_000_000), "壹亿壹仟万元整");
        assert_eq!(c(100_000_000_000_000), "壹万亿元整");
        assert_eq!(c(907_060_503), "玖佰零柒万零陆佰零伍元零叁分");
    }

    #[test]
    fn extremes_do_not_panic() {
        assert!(c(i64::MAX).ends_with("柒分"));
        assert!(c(i64::MIN).starts_with('负'));
    }

    #[test]
    fn separators() {
        assert_eq!(yuan_with_separators(Fen(123_450_050)), "1,234,500.50");
        assert_eq!(yuan_with_separators(Fen(5)), "0.05");
        assert_eq!(yuan_with_separators(Fen(100_000)), "1,000.00");
        assert_eq!(yuan_with_separators(Fen(-12_345_678)), "-123,456.78");
    }
}
