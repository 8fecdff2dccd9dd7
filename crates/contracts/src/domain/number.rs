//! Registration numbers (登记编号).
//!
//! Format: `YYYY` `RRRRRR` `SS` `NNNNNN`, 18 digits without separators, e.g.
//! `2026 110108 01 000042` → `202611010801000042`:
//!
//! - `YYYY`: the year of registration (Beijing time);
//! - `RRRRRR`: the GB/T 2260 region code of the registering station;
//! - `SS`: the station's ordinal among stations sharing that region code (`01` for the first),
//!   so two stations of one region never issue the same number; `RRRRRR SS` together is the
//!   station code, fixed for a station once it registers its first contract;
//! - `NNNNNN`: the sequence within the station and year, from `000001`, without gaps (one counter
//!   row per station and year, incremented in the registering transaction). A sequence past
//!   999 999 simply gets more digits.
//!
//! Numbers of contracts imported from a station's historical register keep their original form.
use ttx_core::RegionCode;

/// A station's code in registration numbers: region code and ordinal, 8 digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StationCode(String);

impl StationCode {
    /// The code of the `ordinal`-th station (1 to 99) of a region.
    pub fn new(region: RegionCode, ordinal: u8) -> Option<StationCode> {
        (1..=99)
            .contains(&ordinal)
            .then(|| StationCode(format!("{}{ordinal:02}", region.as_string())))
    }

    pub fn parse(s: &str) -> Option<StationCode> {
        if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        RegionCode::parse(&s[..6]).ok()?;
        let ord: u8 = s[6..].parse().ok()?;
        (ord >= 1).then(|| StationCode(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn region(&self) -> RegionCode {
        RegionCode::parse(&self.0[..6]).expect("validated on construction")
    }
}

/// A registration number issued by TTX.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistrationNumber {
    pub year: i32,
    pub station: StationCode,
    pub seq: u64,
}

impl RegistrationNumber {
    pub fn new(year: i32, station: StationCode, seq: u64) -> Option<Self> {
        ((1000..=9999).contains(&year) && seq >= 1).then_some(RegistrationNumber {
            year,
            station,
            seq,
        })
    }

    /// The canonical text form.
    pub fn format(&self) -> String {
        format!("{:04}{}{:06}", self.year, self.station.as_str(), self.seq)
    }

    /// Parses the canonical form; anything else (including numbers from other systems) is
    /// `None`.
    pub fn parse(s: &str) -> Option<RegistrationNumber> {
        let s = s.trim();
        if s.len() < 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let year: i32 = s[..4].parse().ok()?;
        let station = StationCode::parse(&s[4..12])?;
        let seq_text = &s[12..];
        // Six digits, zero-padded; longer only without padding.
        if seq_text.len() > 6 && seq_text.starts_with('0') {
            return None;
        }
        let seq: u64 = seq_text.parse().ok()?;
        RegistrationNumber::new(year, station, seq)
    }
}

impl std::fmt::Display for RegistrationNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.format())
    }
}

/// Whether a number from another system may be kept as it is: 1 to 32 letters, digits, `-`
/// or `/`.
pub fn is_acceptable_foreign_number(s: &str) -> bool {
    let n = s.chars().count();
    (1..=32).contains(&n)
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code() -> StationCode {
        StationCode::new(RegionCode::parse("110108").unwrap(), 1).unwrap()
    }

    #[test]
    fn format_is_year_station_sequence() {
        let n = RegistrationNumber::new(2026, code(), 42).unwrap();
        assert_eq!(n.format(), "202611010801000042");
        assert_eq!(n.format().len(), 18);
        assert_eq!(RegistrationNumber::parse(&n.format()), Some(n));
    }

    #[test]
    fn sequences_beyond_six_digits() {
        let n = RegistrationNumber::new(2026, code(), 1_234_567).unwrap();
        assert_eq!(n.format(), "2026110108011234567");
        assert_eq!(
            RegistrationNumber::parse(&n.format()).unwrap().seq,
            1_234_567
        );
        // padding beyond six digits is not canonical
        assert_eq!(RegistrationNumber::parse("2026110108010000042"), None);
    }

    #[test]
    fn numbers_order_like_their_sequence_within_a_station_year() {
        let a = RegistrationNumber::new(2026, code(), 9).unwrap().format();
        let b = RegistrationNumber::new(2026, code(), 10).unwrap().format();
        assert!(a < b);
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            "2026",
            "20261101080100004x",
            "202699999901000001", // unknown region
            "202611010800000001", // ordinal 00
            "202611010801000000", // sequence 0
        ] {
            assert_eq!(RegistrationNumber::parse(s), None, "{s}");
        }
        assert!(StationCode::new(RegionCode::parse("110000").unwrap(), 0).is_none());
        assert!(StationCode::new(RegionCode::parse("110000").unwrap(), 100).is_none());
        assert_eq!(code().region().as_string(), "110108");
    }

    #[test]
    fn foreign_numbers() {
        assert!(is_acceptable_foreign_number("2019110108000123"));
        assert!(is_acceptable_foreign_number("JS-2019/0012"));
        assert!(!is_acceptable_foreign_number(""));
        assert!(!is_acceptable_foreign_number("2019 0012"));
        assert!(!is_acceptable_foreign_number(&"1".repeat(33)));
    }
}
