//! Error codes of documents.
ttx_web::error_codes! {
    /// Every documents-specific problem.
    pub enum DocumentError {
        HashMismatch = ("hash_mismatch", 422, "The file's SHA-256 is not the declared one"),
        TypeNotAllowed = ("document_type_not_allowed", 415, "This type of file is not taken"),
        ContentTypeMismatch = ("content_type_mismatch", 422, "The file's bytes are not of the declared type"),
        TooLarge = ("document_too_large", 413, "The file is larger than the limit"),
        Empty = ("document_empty", 422, "The file is empty"),
        StorageUnavailable = ("storage_unavailable", 503, "The document storage is not available"),
    }
}

/// (code, status, title) of every documents-specific error.
pub const ERROR_CODES: ttx_web::error::ErrorTable = DocumentError::TABLE;
