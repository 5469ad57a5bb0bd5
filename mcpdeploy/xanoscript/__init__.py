"""XanoScript as Xano reads it: tokens, documents, and the canonical form two documents are compared in."""
