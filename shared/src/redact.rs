//! Redaction: secret values are replaced before anything is written, by key name and by the
//! shape of the value, in resources and in logs. The report counts per rule and never holds a
//! value.
