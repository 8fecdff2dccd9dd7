//! Enums with a stable machine code and Chinese / English labels.

/// Implemented by every vocabulary enum.
pub trait Labelled: Sized + Copy + 'static {
    /// Every variant, in display order.
    const ALL: &'static [Self];
    /// Stable machine code used in the API and the database.
    fn code(&self) -> &'static str;
    /// Chinese label.
    fn zh(&self) -> &'static str;
    /// English label.
    fn en(&self) -> &'static str;
    /// Parses a machine code.
    fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.code() == code)
    }
}

/// Declares a vocabulary enum: serde as its code, `FromStr`, `Display`, `Labelled`, and an
/// OpenAPI schema listing the codes.
#[macro_export]
macro_rules! vocab_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $variant:ident = ($code:literal, $zh:literal, $en:literal) ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $( #[serde(rename = $code)] $variant ),+ }

        impl $crate::labels::Labelled for $name {
            const ALL: &'static [Self] = &[ $( Self::$variant ),+ ];
            fn code(&self) -> &'static str { match self { $( Self::$variant => $code ),+ } }
            fn zh(&self) -> &'static str { match self { $( Self::$variant => $zh ),+ } }
            fn en(&self) -> &'static str { match self { $( Self::$variant => $en ),+ } }
        }

        impl $name {
            /// Stable machine code.
            pub fn as_str(&self) -> &'static str { $crate::labels::Labelled::code(self) }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($crate::labels::Labelled::code(self))
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::labels::UnknownCode;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <Self as $crate::labels::Labelled>::from_code(s.trim())
                    .ok_or_else(|| $crate::labels::UnknownCode {
                        expected: <Self as $crate::labels::Labelled>::ALL
                            .iter().map(|v| $crate::labels::Labelled::code(v)).collect(),
                    })
            }
        }
    };
}

/// A code that names no variant; lists the codes that would have been accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of: {}", expected.join(", "))]
pub struct UnknownCode {
    pub expected: Vec<&'static str>,
}

/// A code with its labels, as the API lists vocabularies.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct LabelEntry {
    pub code: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
}

/// Every entry of a vocabulary enum.
pub fn entries<T: Labelled>() -> Vec<LabelEntry> {
    T::ALL
        .iter()
        .map(|v| LabelEntry {
            code: v.code(),
            zh: v.zh(),
            en: v.en(),
        })
        .collect()
}
