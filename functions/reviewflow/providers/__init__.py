"""Provider interfaces and their adapters (AWS and offline)."""
