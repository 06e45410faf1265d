"""The procedure catalog: imported and versioned (store), compared with the version before (changes), searched by
the kiosk's rules (search) and shown to the public (pages)."""
