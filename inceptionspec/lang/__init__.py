"""The spec language: load (YAML with positions) → validate → resolve → expand."""
