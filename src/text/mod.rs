//! Normalisation and tolerant matching of what citizens type.
