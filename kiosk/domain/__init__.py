"""What the kiosk and the central server share, and nothing of either: the five levels and the questions with
their domains, the signed record chain and its canonical form, keys and signatures, scrypt hashes, the bilingual
error, the national procedure format and its import, TOML settings files, and safe spreadsheet cells.

Both sides import from here; nothing here imports the device's services, screens or agent, or the server.
"""
